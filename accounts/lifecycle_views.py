"""Deleting the account (POST /auth/delete-account) and exporting its data (/auth/me/exports)."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import openapi, selectors
from accounts.authentication import ApiKeyAuthentication, ServiceKeyAuthentication, VersionedJWTAuthentication
from accounts.lifecycle_serializers import DeleteAccountSerializer, export_created, export_public
from accounts.permissions import IsPerson, RefuseApiKeys, RefuseDelegated
from accounts.services.deletion import account_deletion_request
from accounts.services.export import data_export_document, data_export_request
from accounts.throttles import client_address


class DeleteAccountView(APIView):
    permission_classes = [IsPerson, RefuseApiKeys, RefuseDelegated]

    @extend_schema(**openapi.DELETE_ACCOUNT)
    def post(self, request):
        serializer = DeleteAccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account_deletion_request(user=request.user, address=client_address(request), **serializer.validated_data)
        return Response(
            {"detail": openapi.ACCOUNT_DELETION_STARTED, "status": "pending"}, status=status.HTTP_202_ACCEPTED
        )


class ExportListCreateView(APIView):
    permission_classes = [IsPerson, RefuseApiKeys]

    @extend_schema(**openapi.LIST_EXPORTS)
    def get(self, request):
        return Response([export_public(export) for export in selectors.data_export_list(user=request.user)])

    @extend_schema(**openapi.CREATE_EXPORT)
    def post(self, request):
        export = data_export_request(user=request.user)
        return Response(export_created(export), status=status.HTTP_202_ACCEPTED)


class ExportDownloadView(APIView):
    """By bearer token, or the session of a person logged in through the site (a link opened in a browser)."""

    authentication_classes = [
        ServiceKeyAuthentication,
        ApiKeyAuthentication,
        VersionedJWTAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsPerson, IsAuthenticated, RefuseApiKeys]

    @extend_schema(**openapi.DOWNLOAD_EXPORT)
    def get(self, request, id):
        export = data_export_document(user=request.user, export_id=id)
        filename = f"wisdom-export-{export.created_at:%Y-%m-%d}-{str(export.pk)[:8]}.json"
        return HttpResponse(
            export.document.encode(),
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )
