"""The agents double's state and rules: entities with global names, each with its owner's conversation."""

import threading
from datetime import UTC, datetime

from personal import agents_contract
from personal.names import entity_name_problem

# The limits are the contract's (personal/agents.openapi.yaml), so the double refuses exactly what it documents.
ENTITY_FIELDS = agents_contract.fields("EntityCreate")
UPDATABLE_FIELDS = agents_contract.fields("EntityUpdate")
TEXT_LIMITS = {field: agents_contract.max_length("EntityUpdate", field) for field in sorted(UPDATABLE_FIELDS)}
CONTENT_MAX = agents_contract.max_length("ChatRequest", "content")
_PAGE = agents_contract.query_parameter("message_list", "limit")
PAGE_DEFAULT, PAGE_MIN, PAGE_MAX = _PAGE["default"], _PAGE["minimum"], _PAGE["maximum"]


class ContractError(Exception):
    """A refusal the real service would give: status and detail."""

    def __init__(self, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(detail)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _check_name(name: object) -> str:
    problem = entity_name_problem(name)
    if problem is not None:
        raise ContractError(422, f"name: {problem}")
    return name


def _check_text_fields(body: dict, allowed: frozenset) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ContractError(422, f"{unknown[0]}: unknown field")
    for field, limit in TEXT_LIMITS.items():
        if field in body and (not isinstance(body[field], str) or len(body[field]) > limit):
            raise ContractError(422, f"{field}: must be a string of at most {limit} characters")


class Store:
    """Thread-safe: one lock around every read and write."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entities: dict[str, dict] = {}
        self._conversations: dict[str, list[dict]] = {}
        self._message_seq = 0

    def reset(self) -> None:
        with self._lock:
            self._entities.clear()
            self._conversations.clear()
            self._message_seq = 0

    def dump(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entities.values()]

    def _owned(self, owner: str, name: str) -> dict:
        entity = self._entities.get(name)
        if entity is None:
            raise ContractError(404, "Entity not found.")
        if entity["owner_user_id"] != owner:
            raise ContractError(403, "This entity belongs to another user.")
        return entity

    def owned_by(self, owner: str) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entities.values() if e["owner_user_id"] == owner]

    def create(self, owner: str, body: dict) -> dict:
        _check_text_fields(body, ENTITY_FIELDS)
        name = _check_name(body.get("name"))
        with self._lock:
            if name in self._entities:
                raise ContractError(409, f"An entity named {name!r} already exists.")
            now = _now()
            entity = {
                "name": name,
                "display_name": body.get("display_name", ""),
                "description": body.get("description", ""),
                "status": "active",
                "owner_user_id": owner,
                "created_at": now,
                "updated_at": now,
            }
            self._entities[name] = entity
            self._conversations[name] = []
            return dict(entity)

    def get(self, owner: str, name: str) -> dict:
        with self._lock:
            return dict(self._owned(owner, name))

    def update(self, owner: str, name: str, body: dict) -> dict:
        _check_text_fields(body, UPDATABLE_FIELDS)
        if not body:
            raise ContractError(422, "No fields to update")
        with self._lock:
            entity = self._owned(owner, name)
            entity.update(body)
            entity["updated_at"] = _now()
            return dict(entity)

    def delete(self, owner: str, name: str) -> None:
        with self._lock:
            self._owned(owner, name)
            del self._entities[name]
            self._conversations.pop(name, None)

    def set_status(self, owner: str, name: str, status: str) -> dict:
        with self._lock:
            entity = self._owned(owner, name)
            if entity["status"] != status:
                entity["status"] = status
                entity["updated_at"] = _now()
            return dict(entity)

    def chat(self, owner: str, name: str, body: dict) -> dict:
        content = body.get("content")
        if set(body) != {"content"} or not isinstance(content, str) or not 1 <= len(content) <= CONTENT_MAX:
            raise ContractError(422, f"content: must be the only field, a string of 1 to {CONTENT_MAX} characters")
        with self._lock:
            entity = self._owned(owner, name)
            if entity["status"] != "active":
                raise ContractError(409, "Entity is paused.")
            asked = self._message("user", content)
            answer = self._message("assistant", f"You said: {content}")
            self._conversations[name].extend([asked, answer])
            return {"message_id": asked["id"], "reply": answer["content"], "created_at": answer["created_at"]}

    def history(self, owner: str, name: str, limit: str | None, before: str | None) -> list[dict]:
        try:
            size = int(limit) if limit is not None else PAGE_DEFAULT
        except ValueError:
            raise ContractError(422, "limit: must be an integer") from None
        if not PAGE_MIN <= size <= PAGE_MAX:
            raise ContractError(422, f"limit: must be between {PAGE_MIN} and {PAGE_MAX}")
        with self._lock:
            self._owned(owner, name)
            messages = self._conversations[name]
            end = len(messages)
            if before is not None:
                ids = [m["id"] for m in messages]
                if before not in ids:
                    raise ContractError(422, "before: unknown cursor")
                end = ids.index(before)
            return [dict(m) for m in messages[max(0, end - size) : end]]

    def _message(self, role: str, content: str) -> dict:
        self._message_seq += 1
        return {"id": f"m{self._message_seq:012d}", "role": role, "content": content, "created_at": _now()}
