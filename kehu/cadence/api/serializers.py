from __future__ import annotations

from rest_framework import serializers

from kehu.cadence import rules
from kehu.cadence.models import CadenceRule, Milestone
from kehu.cadence.sources import KINDS
from kehu.org.models import OrgNode, Project


class AgendaItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    customer = serializers.IntegerField(allow_null=True, help_text="Customer id, or null.")
    title = serializers.CharField()
    reason = serializers.CharField()
    due = serializers.DateField()


class AgendaSerializer(serializers.Serializer):
    date = serializers.DateField()
    items = AgendaItemSerializer(many=True)


class PersonOverdueSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    name = serializers.CharField()
    node = serializers.CharField()
    overdue = serializers.IntegerField()


class TeamAgendaSerializer(serializers.Serializer):
    date = serializers.DateField()
    people = PersonOverdueSerializer(many=True)


class CadenceRuleSerializer(serializers.ModelSerializer):
    # Plain text in the schema: "A", "B", "C", "D" or "callback" (an enum here would
    # collide with the intent-grade enums of other components).
    grade = serializers.CharField(read_only=True, help_text="A, B, C, D or callback.")

    class Meta:
        model = CadenceRule
        fields = ["grade", "interval_days", "uses_milestones", "updated_at"]
        read_only_fields = fields


class CadenceRuleUpdateSerializer(serializers.Serializer):
    interval_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=rules.MIN_INTERVAL, max_value=rules.MAX_INTERVAL
    )
    uses_milestones = serializers.BooleanField(required=False)


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "date", "name", "node", "project", "created_at"]
        read_only_fields = fields


class MilestoneCreateSerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100)
    node = serializers.PrimaryKeyRelatedField(
        queryset=OrgNode.objects.all(), required=False, allow_null=True
    )
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )


class MilestoneUpdateSerializer(serializers.Serializer):
    date = serializers.DateField(required=False)
    name = serializers.CharField(max_length=100, required=False)
