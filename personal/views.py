"""The nine /personal/entities routes: validate, call one service, shape the answer."""

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from personal import openapi, services
from personal.serializers import (
    EntityCreateSerializer,
    EntitySerializer,
    EntityUpdateSerializer,
    MessageCreateSerializer,
    MessageListQuerySerializer,
    MessageReplySerializer,
    MessageSerializer,
    entity_public,
    message_public,
    raw_path_has_encoded_slash,
    reply_public,
    validate_entity_name,
)
from wisdom.negotiation import JSONOnlyNegotiation

ENCODED_SLASH = "Entity name must not contain '/' (%2F)."
EVENT_STREAM = "text/event-stream"


def wants_event_stream(request) -> bool:
    """The client listed text/event-stream in Accept (not merely */*): it gets the reply as it is written."""
    return any(
        accepted.main_type == "text" and accepted.sub_type == "event-stream" and accepted.quality > 0
        for accepted in request.accepted_types
    )


def _entity_example(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


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

    @extend_schema(
        tags=openapi.TAGS,
        summary="List my entities",
        responses={200: EntitySerializer(many=True), **openapi.errors()},
        examples=[_entity_example("Entities", openapi.ENTITY_EXAMPLE)],  # spectacular wraps it in the array,
    )
    def list(self, request):
        return Response([entity_public(entity) for entity in services.entity_list(user=request.user)])

    @extend_schema(
        tags=openapi.TAGS,
        summary="Create an entity (within my plan's quota)",
        request=EntityCreateSerializer,
        responses={201: EntitySerializer, **openapi.errors(body=True)},
        examples=[
            OpenApiExample(
                "New entity",
                value={"name": "ada", "display_name": "Ada", "description": "Remembers my reading list."},
                request_only=True,
            ),
            _entity_example("Created", openapi.ENTITY_EXAMPLE),
        ],
    )
    def create(self, request):
        serializer = EntityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = services.entity_create(user=request.user, data=serializer.validated_data)
        return Response(entity_public(entity), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=openapi.TAGS,
        summary="One of my entities",
        parameters=[openapi.NAME],
        responses={200: EntitySerializer, **openapi.errors()},
        examples=[_entity_example("Entity", openapi.ENTITY_EXAMPLE)],
    )
    def retrieve(self, request, name: str):
        return Response(entity_public(services.entity_get(user=request.user, name=name)))

    @extend_schema(
        tags=openapi.TAGS,
        summary="Change an entity's display name or description",
        parameters=[openapi.NAME],
        request=EntityUpdateSerializer,
        responses={200: EntitySerializer, **openapi.errors(body=True)},
        examples=[
            OpenApiExample("New description", value={"description": "Knows my plans."}, request_only=True),
            _entity_example("Updated", {**openapi.ENTITY_EXAMPLE, "description": "Knows my plans."}),
        ],
    )
    def partial_update(self, request, name: str):
        serializer = EntityUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = services.entity_update(user=request.user, name=name, data=serializer.validated_data)
        return Response(entity_public(entity))

    @extend_schema(
        tags=openapi.TAGS,
        summary="Delete an entity and its conversation",
        parameters=[openapi.NAME],
        responses={204: None, **openapi.errors()},
    )
    def destroy(self, request, name: str):
        services.entity_delete(user=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=openapi.TAGS,
        summary="Pause an entity (it stops answering messages)",
        parameters=[openapi.NAME],
        request=None,
        responses={200: EntitySerializer, **openapi.errors()},
        examples=[_entity_example("Paused", openapi.PAUSED_EXAMPLE)],
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, name: str):
        return Response(entity_public(services.entity_pause(user=request.user, name=name)))

    @extend_schema(
        tags=openapi.TAGS,
        summary="Resume a paused entity",
        parameters=[openapi.NAME],
        request=None,
        responses={200: EntitySerializer, **openapi.errors()},
        examples=[_entity_example("Active", openapi.ENTITY_EXAMPLE)],
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, name: str):
        return Response(entity_public(services.entity_resume(user=request.user, name=name)))

    @extend_schema(
        tags=openapi.TAGS,
        summary="My conversation with an entity, a page at a time (oldest first within a page)",
        parameters=[openapi.NAME, MessageListQuerySerializer],
        responses={200: MessageSerializer(many=True), **openapi.errors()},
        examples=[_entity_example("Messages", openapi.MESSAGE_EXAMPLE)],  # spectacular wraps it in the array,
    )
    @action(detail=True, methods=["get"])
    def messages(self, request, name: str):
        query = MessageListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = services.message_list(user=request.user, name=name, **query.validated_data)
        return Response([message_public(message) for message in messages])

    @extend_schema(
        tags=openapi.TAGS,
        summary="Send a message to an entity and get its reply, whole or streamed as it is written",
        description=openapi.MESSAGE_CREATE_DESCRIPTION,
        parameters=[openapi.NAME, openapi.ACCEPT_EVENT_STREAM],
        request=MessageCreateSerializer,
        responses={
            201: MessageReplySerializer,
            (200, EVENT_STREAM): openapi.EVENT_STREAM_RESPONSE,
            **openapi.errors(body=True),
            429: openapi.MESSAGE_RATE_LIMITED,
        },
        examples=[
            OpenApiExample("Message", value={"content": "What's next on my list?"}, request_only=True),
            _entity_example("Reply", {"message_id": "m000000000041", "reply": "Middlemarch."}),
        ],
    )
    @messages.mapping.post
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
