"""Request bodies carry the documented fields only: any other is refused (400), never ignored or passed on."""

from collections.abc import Mapping

from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field."


# A serializer mixin: a field the serializer does not declare is a 400 under its own name, reported with the other
# fields' errors. No docstring: drf-spectacular would print it as the description of every body that uses it.
class DocumentedFieldsOnly:
    unknown_field_message = UNKNOWN_FIELD

    def to_internal_value(self, data):
        unknown = self.unknown_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as e:
            if unknown and isinstance(e.detail, dict):
                raise serializers.ValidationError({**e.detail, **self._refusals(unknown)}) from None
            raise
        if unknown:
            raise serializers.ValidationError(self._refusals(unknown))
        return value

    def unknown_fields(self, data) -> list[str]:
        if not isinstance(data, Mapping):
            return []
        writable = {name for name, field in self.fields.items() if not field.read_only}
        return sorted(str(name) for name in data if name not in writable)

    def _refusals(self, unknown: list[str]) -> dict[str, list[str]]:
        return {name: [self.unknown_field_message] for name in unknown}
