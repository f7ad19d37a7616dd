"""The messaging API: templates (+ preview), triggers, the outbox, consents and
broadcasts. Thin: parse → access (visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.messaging import services
from kehu.messaging.api import serializers as s
from kehu.messaging.filtersets import (
    BroadcastFilterSet,
    MessageFilterSet,
    MessageTemplateFilterSet,
)
from kehu.messaging.models import Broadcast, Consent, Message, MessageTemplate, TriggerRule
from kehu.messaging.rendering import placeholders_in
from kehu.org.api.views import VisibleMixin


class MessageTemplateViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Message templates: administrators write them; managers and consultants read them.
    A body naming an unknown placeholder is refused (400) with the valid ones listed."""

    queryset = MessageTemplate.objects.all()
    serializer_class = s.MessageTemplateSerializer
    filterset_class = MessageTemplateFilterSet
    ordering_fields = ["code", "name", "id"]

    @extend_schema(
        request=s.MessageTemplateWriteSerializer, responses={201: s.MessageTemplateSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.MessageTemplateWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        template = services.create_template(actor=request.user, **data.validated_data)
        return Response(s.MessageTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MessageTemplateWriteSerializer, responses=s.MessageTemplateSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        template = self.get_object()
        data = s.MessageTemplateWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        template = services.update_template(
            actor=request.user, template=template, **data.validated_data
        )
        return Response(s.MessageTemplateSerializer(template).data)

    @extend_schema(request=s.PreviewSerializer, responses=s.PreviewResultSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: Any = None) -> Response:
        """The template (or ``body``) rendered for one of your customers; nothing saved."""
        template = self.get_object()
        data = s.PreviewSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        body = data.validated_data.get("body")
        text = services.preview(
            template=template, customer=data.validated_data["customer"], body=body
        )
        used = placeholders_in(body if body is not None else template.body)
        return Response({"body": text, "placeholders": used})


class TriggerRuleViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """The automatic messages: first call, first visit, pledge, deal. Administrators
    change the delay, the template or switch one off; managers read them."""

    queryset = TriggerRule.objects.all()
    serializer_class = s.TriggerRuleSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(request=s.TriggerRuleUpdateSerializer, responses=s.TriggerRuleSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        rule = self.get_object()
        data = s.TriggerRuleUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        rule = services.update_trigger(actor=request.user, rule=rule, **data.validated_data)
        return Response(s.TriggerRuleSerializer(rule).data)


class MessageViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """The outbox: every message with its status. Consultants see their customers'
    messages, managers their subtree's, administrators all."""

    queryset = Message.objects.all()
    serializer_class = s.MessageSerializer
    filterset_class = MessageFilterSet
    ordering_fields = ["created_at", "scheduled_at", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer", "sender")

    @extend_schema(request=s.MessageCreateSerializer, responses={201: s.MessageSerializer})
    def create(self, request: Request) -> Response:
        """Queue a one-off message to a customer, sent as you: a template, or your own
        text (placeholders allowed)."""
        data = s.MessageCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        message = services.send_one_off(actor=request.user, **data.validated_data)
        message = self.get_queryset().get(pk=message.pk)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: Any = None) -> Response:
        """Queue a held or failed message again (same key: still delivered once)."""
        message = self.get_object()
        services.retry_message(actor=request.user, message=message)
        return Response(s.MessageSerializer(self.get_queryset().get(pk=message.pk)).data)


class ConsentViewSet(VisibleMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Consent to promotional messages, per customer. POST ``opted_in: true`` to opt a
    customer in, ``false`` to unsubscribe them (honoured at once, also for messages
    already queued)."""

    queryset = Consent.objects.all()
    serializer_class = s.ConsentSerializer
    filterset_fields = ["customer"]
    ordering_fields = ["customer", "updated_at"]

    @extend_schema(request=s.ConsentWriteSerializer, responses=s.ConsentSerializer)
    def create(self, request: Request) -> Response:
        data = s.ConsentWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        consent = services.set_consent(actor=request.user, **data.validated_data)
        return Response(s.ConsentSerializer(consent).data)


class BroadcastViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Promotional broadcasts to opted-in customers chosen by tags and grades; managers
    and administrators. Important customers (VIP, grade A) are left out and listed for a
    personal message. The fan-out runs in the worker; ``progress`` shows how far."""

    queryset = Broadcast.objects.all()
    serializer_class = s.BroadcastSerializer
    filterset_class = BroadcastFilterSet
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("tags")

    def get_serializer_class(self) -> Any:
        return s.BroadcastDetailSerializer if self.action == "retrieve" else s.BroadcastSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        data = s.BroadcastSerializer(
            rows, many=True, context={"request": request, "progress": services.progress_of(rows)}
        ).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        request=s.BroadcastCreateSerializer, responses={201: s.BroadcastDetailSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.BroadcastCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        broadcast = services.create_broadcast(actor=request.user, **data.validated_data)
        return Response(
            s.BroadcastDetailSerializer(broadcast, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=s.AudienceQuerySerializer, responses=s.AudienceSerializer)
    @action(detail=False, methods=["post"])
    def audience(self, request: Request) -> Response:
        """How many customers a broadcast with these criteria would reach (and how many
        important ones are kept for a personal message); nothing is written."""
        if not services.can_broadcast(request.user):
            raise services._deny()
        data = s.AudienceQuerySerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        return Response(
            services.audience_counts(
                actor=request.user,
                tag_ids=[t.pk for t in fields.get("tags", [])],
                intent_grades=fields.get("intent_grades", []),
                value_grades=fields.get("value_grades", []),
            )
        )
