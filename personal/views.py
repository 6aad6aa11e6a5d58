"""The nine /personal/entities routes and /personal/usage: validate, call one service, shape the answer."""

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from personal import openapi, selectors, services
from personal.idempotency import create_lease_seconds, idempotent, send_lease_seconds
from personal.serializers import (
    EntityCreateSerializer,
    EntityUpdateSerializer,
    MessageCreateSerializer,
    MessageListQuerySerializer,
    entity_public,
    message_public,
    raw_path_has_encoded_slash,
    reply_public,
    validate_entity_name,
)
from wisdom.negotiation import JSONOnlyNegotiation

ENCODED_SLASH = "Entity name must not contain '/' (%2F)."
# The charset is SSE's only one, said outright; the OpenAPI declares this exact type (see personal/openapi.py).
EVENT_STREAM = "text/event-stream; charset=utf-8"


def wants_event_stream(request) -> bool:
    """The client listed text/event-stream in Accept (not merely */*): it gets the reply as it is written."""
    return any(
        accepted.main_type == "text" and accepted.sub_type == "event-stream" and accepted.quality > 0
        for accepted in request.accepted_types
    )


class EntityViewSet(viewsets.ViewSet):
    content_negotiation_class = JSONOnlyNegotiation  # every chat passes here; JSON is all it speaks
    lookup_field = "name"
    lookup_value_regex = "[^/]+"  # anything but '/'; the name's own rules are checked in initial()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions first: 401 before 400
        if "name" in kwargs:
            if raw_path_has_encoded_slash(request.META):
                raise serializers.ValidationError({"name": [ENCODED_SLASH]})
            try:
                validate_entity_name(kwargs["name"])
            except serializers.ValidationError as e:
                raise serializers.ValidationError({"name": e.detail}) from None

    @extend_schema(**openapi.LIST)
    def list(self, request):
        return Response([entity_public(entity) for entity in services.entity_list(user=request.user)])

    @extend_schema(**openapi.CREATE)
    @idempotent(lease_seconds=create_lease_seconds)
    def create(self, request):
        serializer = EntityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = services.entity_create(user=request.user, data=serializer.validated_data)
        return Response(entity_public(entity), status=status.HTTP_201_CREATED)

    @extend_schema(**openapi.GET)
    def retrieve(self, request, name: str):
        return Response(entity_public(services.entity_get(user=request.user, name=name)))

    @extend_schema(**openapi.UPDATE)
    def partial_update(self, request, name: str):
        serializer = EntityUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = services.entity_update(user=request.user, name=name, data=serializer.validated_data)
        return Response(entity_public(entity))

    @extend_schema(**openapi.DELETE)
    def destroy(self, request, name: str):
        services.entity_delete(user=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(**openapi.PAUSE)
    @action(detail=True, methods=["post"])
    def pause(self, request, name: str):
        return Response(entity_public(services.entity_pause(user=request.user, name=name)))

    @extend_schema(**openapi.RESUME)
    @action(detail=True, methods=["post"])
    def resume(self, request, name: str):
        return Response(entity_public(services.entity_resume(user=request.user, name=name)))

    @extend_schema(**openapi.LIST_MESSAGES)
    @action(detail=True, methods=["get"])
    def messages(self, request, name: str):
        query = MessageListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = services.message_list(user=request.user, name=name, **query.validated_data)
        return Response([message_public(message) for message in messages])

    @extend_schema(**openapi.SEND_MESSAGE)
    @messages.mapping.post
    @idempotent(lease_seconds=send_lease_seconds, unless=wants_event_stream)  # a stream is not replayed
    def message_create(self, request, name: str):
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if wants_event_stream(request):
            streamed = services.message_stream(user=request.user, name=name, **serializer.validated_data)
            # no-cache and X-Accel-Buffering: a proxy in front passes each event on as it comes
            headers = {**streamed.headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingHttpResponse(streamed.events, content_type=EVENT_STREAM, headers=headers)
        sent = services.message_send(user=request.user, name=name, **serializer.validated_data)
        return Response(reply_public(sent.reply), status=status.HTTP_201_CREATED, headers=sent.headers)


@extend_schema(exclude=True)
class EntitySubpathView(APIView):
    """Paths under an entity that no route serves: a %2F in the name lands here once decoded."""

    def _refuse(self, request, *args, **kwargs):
        if raw_path_has_encoded_slash(request.META):
            raise serializers.ValidationError({"name": [ENCODED_SLASH]})
        raise NotFound()

    get = post = put = patch = delete = _refuse


class UsageView(APIView):
    content_negotiation_class = JSONOnlyNegotiation

    @extend_schema(**openapi.USAGE)
    def get(self, request):
        return Response(selectors.usage_get(user=request.user))
