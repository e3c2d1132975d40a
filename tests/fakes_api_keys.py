"""An in-memory ApiKeyStore, as DynamoApiKeyStore keeps keys (tests/integration/
test_contract_api_key_store.py runs one suite on both)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.errors import Conflict
from chalicelib.domain.workspace_api.model import ApiKey, Refused


@dataclass
class FakeApiKeyStore:
    listed: dict[tuple[str, str], ApiKey] = field(default_factory=dict)
    lookup: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # hash -> ws, key id
    live: dict[str, int] = field(default_factory=dict)  # absent: no count item yet

    def add(self, key: ApiKey, most: int) -> None:
        if self.live.get(key.workspace_id, 0) >= most:
            raise Refused(f"a workspace has at most {most} live API keys", "too_many_keys")
        if key.key_hash in self.lookup or (key.workspace_id, key.key_id) in self.listed:
            raise Conflict("the API key could not be stored; try again")
        self.live[key.workspace_id] = self.live.get(key.workspace_id, 0) + 1
        self.lookup[key.key_hash] = (key.workspace_id, key.key_id)
        self.listed[(key.workspace_id, key.key_id)] = key

    def adopt(self, key: ApiKey, most: int) -> None:
        if self.live.get(key.workspace_id, 0) >= most:
            raise Refused(f"a workspace has at most {most} live API keys", "too_many_keys")
        if self.lookup.get(key.key_hash) != (key.workspace_id, None):
            raise Refused("that key is not an unlisted key of this workspace", "not_adoptable")
        self.live[key.workspace_id] = self.live.get(key.workspace_id, 0) + 1
        self.lookup[key.key_hash] = (key.workspace_id, key.key_id)
        self.listed[(key.workspace_id, key.key_id)] = key

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None:
        return self.listed.get((workspace_id, key_id))

    def keys(self, workspace_id: str) -> list[ApiKey]:
        return [k for (ws, _), k in sorted(self.listed.items()) if ws == workspace_id]

    def _as_read(self, key: ApiKey) -> bool:
        held = self.listed.get((key.workspace_id, key.key_id))
        return (
            held is not None and held.key_hash == key.key_hash and held.live and key.key_hash in self.lookup
        )

    def rotate(self, key: ApiKey, rotated: ApiKey) -> None:
        if not self._as_read(key) or rotated.key_hash in self.lookup:
            raise Refused(f"API key {key.key_id} changed meanwhile; read it again", "changed")
        del self.lookup[key.key_hash]
        self.lookup[rotated.key_hash] = (rotated.workspace_id, rotated.key_id)
        self.listed[(key.workspace_id, key.key_id)] = rotated

    def revoke(self, key: ApiKey, revoked: ApiKey) -> None:
        if not self._as_read(key):
            raise Refused(f"API key {key.key_id} changed meanwhile; read it again", "changed")
        if self.live.get(key.workspace_id, 0) <= 1:
            raise Refused(f"API key {key.key_id} is the workspace's last live key", "last_key")
        self.live[key.workspace_id] -= 1
        del self.lookup[key.key_hash]
        self.listed[(key.workspace_id, key.key_id)] = revoked

    def key_id_for(self, key_hash: str) -> str | None:
        found = self.lookup.get(key_hash)
        return None if found is None else found[1]
