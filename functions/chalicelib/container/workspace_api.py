"""The workspace API's services of the composition root: API keys (docs/workspace-api.md) and
the settings read and written through the API. `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.api_key_store import DynamoApiKeyStore
    from chalicelib.adapters.workspace_settings_store import DynamoSettingsStore
    from chalicelib.domain.workspace_api.api_keys import ApiKeyService
    from chalicelib.domain.workspace_api.settings import SettingsService


class WorkspaceApi(Adapters):
    @cached_property
    def api_key_store(self) -> DynamoApiKeyStore:
        from chalicelib.adapters.api_key_store import DynamoApiKeyStore

        return DynamoApiKeyStore(table=self.crm)

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """A workspace's keys: create, list, rotate, revoke (`/workspace/keys`)."""
        from chalicelib.domain.workspace_api.api_keys import ApiKeyService

        return ApiKeyService(store=self.api_key_store)

    @cached_property
    def settings_store(self) -> DynamoSettingsStore:
        from chalicelib.adapters.workspace_settings_store import DynamoSettingsStore

        return DynamoSettingsStore(table=self.crm, workspaces=self.workspaces)

    @cached_property
    def workspace_settings(self) -> SettingsService:
        """The settings read and written with their version (`/workspace/settings`, the CLI)."""
        from chalicelib.domain.workspace_api.settings import SettingsService

        return SettingsService(store=self.settings_store)
