from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.fields import MAX_ID, KnownChoiceField
from kehu.core.phones import mask_phone
from kehu.org.choices import EmploymentType, NodeKind, ProjectKind, Role
from kehu.org.models import ApiToken, OrgNode, Project, Staff


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key the requesting user must be able to see; unknown and invisible ids
    get the same message."""

    default_error_messages = {
        "does_not_exist": _("Unknown id {pk_value}."),
        "incorrect_type": _("Expected an id (a whole number), got {data_type}."),
    }

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return self.queryset.visible_to(request.user if request else None)

    def to_internal_value(self, data: Any) -> Any:
        # Only whole numbers (or strings of digits): DRF would take 1.5 as id 1, and an id
        # past the database's integer range errors on SQLite.
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class OrgNodeSerializer(serializers.ModelSerializer):
    parent = VisiblePrimaryKeyField(queryset=OrgNode.objects.all(), allow_null=True)
    manager = VisiblePrimaryKeyField(queryset=Staff.objects.all(), allow_null=True, required=False)
    kind = KnownChoiceField(choices=NodeKind.choices)
    name = serializers.CharField(max_length=100)

    class Meta:
        model = OrgNode
        fields = [
            "id",
            "name",
            "kind",
            "parent",
            "path",
            "depth",
            "manager",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["path", "depth", "created_at", "updated_at"]
        # Uniqueness is the service's (and the database's) to check, with a message
        # that names the clash, not DRF's "The fields parent, name must make a unique set."
        validators: list[Any] = []


class OrgNodeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    manager = VisiblePrimaryKeyField(queryset=Staff.objects.all(), allow_null=True, required=False)
    parent = VisiblePrimaryKeyField(queryset=OrgNode.objects.all(), required=False)


class ProjectSerializer(serializers.ModelSerializer):
    node = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    kind = KnownChoiceField(choices=ProjectKind.choices, default=ProjectKind.HOUSING)
    name = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    route = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "node",
            "address",
            "route",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []  # uniqueness: see OrgNodeSerializer


class RolesField(serializers.ListField):
    """One or more roles; an unknown one is named along with the valid ones."""

    child = KnownChoiceField(
        choices=Role.choices,
        error_messages={"invalid_choice": _("Unknown role {input}; valid roles are: {valid}.")},
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", len(Role.choices))
        super().__init__(**kwargs)


class StaffSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Staff
        fields = [
            "id",
            "username",
            "name",
            "phone",
            "email",
            "node",
            "roles",
            "hire_date",
            "probation_end",
            "employment_type",
            "is_active",
            "left_on",
            "capacity",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Role.choices)))
    def get_roles(self, obj: Staff) -> list[str]:
        prefetched = getattr(obj, "_prefetched_objects_cache", {}).get("role_rows")
        if prefetched is not None:
            return sorted(r.role for r in prefetched)
        return sorted(obj.roles)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phone(self, obj: Staff) -> str | None:
        """Promoters and brokers see other people's numbers masked."""
        if not obj.phone:
            return None
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if viewer is not None and must_mask_for(viewer) and viewer.pk != obj.pk:
            return mask_phone(obj.phone)
        return obj.phone


def must_mask_for(viewer: Staff) -> bool:
    return not viewer.is_admin and not viewer.has_any_role(
        Role.MANAGER, Role.CONSULTANT, Role.COMMISSIONER
    )


class StaffCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=128, required=False, allow_blank=True, write_only=True, default=""
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True, default=None
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    node = VisiblePrimaryKeyField(queryset=OrgNode.objects.all(), allow_null=True, default=None)
    roles = RolesField()
    hire_date = serializers.DateField(required=False, allow_null=True, default=None)
    probation_end = serializers.DateField(required=False, allow_null=True, default=None)
    employment_type = KnownChoiceField(
        choices=EmploymentType.choices, default=EmploymentType.FULL_TIME
    )
    capacity = serializers.IntegerField(min_value=0, max_value=10000, default=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """An initial password must pass the password validators (length, common
        passwords, likeness to the person's username, name and email)."""
        if attrs.get("password"):
            person = Staff(
                username=attrs.get("username", ""),
                name=attrs.get("name", ""),
                email=attrs.get("email", ""),
            )
            try:
                validate_password(attrs["password"], person)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class StaffUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    hire_date = serializers.DateField(required=False, allow_null=True)
    probation_end = serializers.DateField(required=False, allow_null=True)
    employment_type = KnownChoiceField(choices=EmploymentType.choices, required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=10000, required=False)


class RolesSerializer(serializers.Serializer):
    roles = RolesField()


class MoveSerializer(serializers.Serializer):
    node = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    keep_records = serializers.BooleanField(default=True)
    reassign_to = VisiblePrimaryKeyField(
        queryset=Staff.objects.all(), required=False, allow_null=True, default=None
    )


class LeaveSerializer(serializers.Serializer):
    left_on = serializers.DateField(required=False, allow_null=True, default=None)
    reassign_to = VisiblePrimaryKeyField(
        queryset=Staff.objects.all(), required=False, allow_null=True, default=None
    )


class ReassignmentResultSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    reassigned = serializers.DictField(child=serializers.IntegerField())


class RoleSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="default")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(help_text=_("Shown once: store it now."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
