"""The organisation API: nodes, projects, staff and roles, tokens. Thin: parse →
access (visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.org import services
from kehu.org.api import serializers as s
from kehu.org.choices import Role
from kehu.org.filtersets import OrgNodeFilterSet, ProjectFilterSet, StaffFilterSet
from kehu.org.models import ApiToken, OrgNode, Project, Staff, StaffRole


class VisibleMixin:
    """Every list and object starts from ``visible_to(request.user)``; an object outside
    it is a 404, like a missing one."""

    queryset: Any
    request: Request

    def get_queryset(self) -> Any:
        return self.queryset.visible_to(self.request.user)


class OrgNodeViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = OrgNode.objects.all()
    serializer_class = s.OrgNodeSerializer
    filterset_class = OrgNodeFilterSet
    ordering_fields = ["path", "name", "id"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.create_node(
            actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=s.OrgNodeUpdateSerializer, responses=s.OrgNodeSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        node = self.get_object()
        data = s.OrgNodeUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        node = services.update_node(actor=request.user, node=node, **data.validated_data)
        return Response(s.OrgNodeSerializer(node, context={"request": request}).data)


class ProjectViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Project.objects.all()
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilterSet
    ordering_fields = ["name", "id", "created_at"]

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("is_active", None)
        serializer.instance = services.create_project(actor=self.request.user, **data)

    @extend_schema(request=s.ProjectSerializer, responses=s.ProjectSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        project = self.get_object()
        data = s.ProjectSerializer(
            project, data=request.data, partial=True, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        project = services.update_project(
            actor=request.user, project=project, **data.validated_data
        )
        return Response(s.ProjectSerializer(project, context={"request": request}).data)


class StaffViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Staff.objects.all()
    serializer_class = s.StaffSerializer
    filterset_class = StaffFilterSet
    ordering_fields = ["username", "name", "hire_date", "id"]

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("role_rows", queryset=StaffRole.objects.order_by("role")))
        )  # no .distinct(): the one join (?role=) matches at most one row per person

    def _out(self, staff: Staff, code: int = status.HTTP_200_OK) -> Response:
        staff = Staff.objects.get(pk=staff.pk)
        return Response(
            s.StaffSerializer(staff, context={"request": self.request}).data, status=code
        )

    @extend_schema(request=s.StaffCreateSerializer, responses={201: s.StaffSerializer})
    def create(self, request: Request) -> Response:
        data = s.StaffCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        staff = services.create_staff(actor=request.user, **data.validated_data)
        return self._out(staff, status.HTTP_201_CREATED)

    @extend_schema(request=s.StaffUpdateSerializer, responses=s.StaffSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        staff = self.get_object()
        data = s.StaffUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.update_staff(actor=request.user, staff=staff, **data.validated_data)
        return self._out(staff)

    @extend_schema(request=s.RolesSerializer, responses=s.StaffSerializer)
    @action(detail=True, methods=["put"])
    def roles(self, request: Request, pk: Any = None) -> Response:
        staff = self.get_object()
        data = s.RolesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_roles(actor=request.user, staff=staff, roles=data.validated_data["roles"])
        return self._out(staff)

    @extend_schema(request=s.MoveSerializer, responses=s.ReassignmentResultSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: Any = None) -> Response:
        staff = self.get_object()
        data = s.MoveSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        moved = services.move_staff(actor=request.user, staff=staff, **data.validated_data)
        return Response({"staff": staff.pk, "reassigned": moved})

    @extend_schema(request=s.LeaveSerializer, responses=s.ReassignmentResultSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: Any = None) -> Response:
        staff = self.get_object()
        data = s.LeaveSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        moved = services.mark_staff_left(actor=request.user, staff=staff, **data.validated_data)
        return Response({"staff": staff.pk, "reassigned": moved})

    @extend_schema(responses=s.StaffSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        return self._out(request.user)


class RoleListView(APIView):
    """The roles a staff member can hold."""

    pagination_class = None

    @extend_schema(responses=s.RoleSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([{"code": value, "label": str(label)} for value, label in Role.choices])


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens. The key is returned once, when the token is created."""

    serializer_class = s.ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def get_queryset(self) -> Any:
        return ApiToken.objects.filter(staff=self.request.user)

    @extend_schema(request=s.ApiTokenCreateSerializer, responses={201: s.ApiTokenCreatedSerializer})
    def create(self, request: Request) -> Response:
        data = s.ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.issue_api_token(
            actor=request.user, staff=request.user, name=data.validated_data["name"]
        )
        body = s.ApiTokenSerializer(token).data | {"key": key}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: Any = None) -> Response:
        token = self.get_object()
        services.revoke_api_token(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
