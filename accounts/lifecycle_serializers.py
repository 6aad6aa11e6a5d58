"""Input and output of deleting an account and exporting its data."""

from rest_framework import serializers

from accounts.errors import EXPORT_DAILY_LIMIT_CODE, EXPORT_IN_PROGRESS_CODE
from accounts.models import DataExport, ExportStatus
from accounts.serializers import PASSWORD_STYLE
from accounts.services.export import FORMAT, FORMAT_VERSION, data_export_download_path, data_export_status
from wisdom.bodies import DocumentedFieldsOnly
from wisdom.fields import StringField
from wisdom.openapi import LiteralField


class DeleteAccountSerializer(DocumentedFieldsOnly, serializers.Serializer):
    password = StringField(max_length=4096, trim_whitespace=False, style=PASSWORD_STYLE)


class DeletionStartedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = LiteralField("pending")


class ExportCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = LiteralField("pending")
    created_at = serializers.DateTimeField()


class ExportRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=[EXPORT_IN_PROGRESS_CODE, EXPORT_DAILY_LIMIT_CODE])
    limit = serializers.IntegerField(required=False, help_text="With `export_daily_limit`: exports per 24 hours.")


class ExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the document can be downloaded; null until it is ready."
    )
    download_url = serializers.CharField(
        allow_null=True,
        help_text="A path on this API answering the document to its owner (bearer token or session); null unless "
        "`status` is `ready`.",
    )


class ExportDocumentSerializer(serializers.Serializer):
    """The top level of the document; each part's fields are described in the README."""

    format = LiteralField(FORMAT)
    format_version = serializers.IntegerField(help_text=f"{FORMAT_VERSION} for this shape; a new one for a change.")
    generated_at = serializers.DateTimeField()
    account = serializers.DictField(help_text="Profile, plan and dates.")
    api_keys = serializers.ListField(child=serializers.DictField(), help_text="Names, prefixes and dates.")
    invites = serializers.DictField(help_text="`issued` and `redeemed`.")
    entities = serializers.ListField(
        child=serializers.DictField(), help_text="Every entity, each with all its `messages`, oldest first."
    )


def export_created(export: DataExport) -> dict:
    return {"id": str(export.pk), "status": ExportStatus.PENDING, "created_at": export.created_at}


def export_public(export: DataExport) -> dict:
    status = data_export_status(export=export)
    return ExportSerializer(
        {
            "id": export.pk,
            "status": status,
            "created_at": export.created_at,
            "expires_at": export.expires_at,
            "download_url": data_export_download_path(export=export) if status == ExportStatus.READY else None,
        }
    ).data
