"""An in-process Patron stage: infra provisioned, the real app wired, a stream poller.

Used by the integration tests and the ingest benchmark against moto (mock_aws),
and by the local stack against the embedded moto server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.container import Container, set_container
from chalicelib.settings import load_settings
from patron import stack
from patron.poller import QueuePoller, StreamPoller, failure_message, mapping_settings
from patron.storefront import headers_for


@dataclass
class Workspace:
    workspace_id: str
    api_key: str
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # platform -> info


class Harness:
    def __init__(
        self,
        stage: str = "test",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        provision: bool = True,
        public_url: str = "http://127.0.0.1:8000",  # where unsubscribe links point
    ) -> None:
        from patron import sesv2_bulk

        sesv2_bulk.install()  # in process (mock_aws); `patron local` installs it in its server
        self.stage = stage
        self.region = region
        self.endpoint_url = endpoint_url
        self.session = boto3.session.Session(region_name=region)
        cf = self.client("cloudformation")
        ddb = self.client("dynamodb")
        self.info = (
            stack.provision(cf, ddb, stage, region) if provision else stack.describe(cf, stage, region)
        )
        # In process (mock_aws) no queue delays: moto keeps them in wall-clock time, so a
        # deferral is held as a due item, released by the dispatcher when the clock gets there.
        in_process = {"campaign_max_delay_seconds": 0} if endpoint_url is None else {}
        self.settings = load_settings(
            self.info, aws_endpoint_url=endpoint_url, public_url=public_url, **in_process
        )
        self.container = Container(self.settings, session=self.session)
        set_container(self.container)
        self._client: Any = None
        self.failures: list[dict[str, Any]] = []
        self.poller = self.new_poller()
        self.profile_poller = self.new_profile_poller()
        self.campaign_poller = self.new_campaign_poller()

    def client(self, service: str) -> Any:
        from botocore.config import Config

        # moto does not know the account-based endpoints botocore picks for stream ARNs.
        config = Config(account_id_endpoint_mode="disabled")
        return self.session.client(service, endpoint_url=self.endpoint_url, config=config)

    def _poller(self, stream_arn: str, handler: Any, function_name: str, **kwargs: Any) -> StreamPoller:
        """A Lambda-like mapping on one stream, with the batch size, retries and bisection
        infra/wiring.json gives the regional mapping; exhausted batches go to the failure queue."""
        sqs = self.client("sqs")
        pollers: list[StreamPoller] = []

        def to_destination(records: list[dict[str, Any]], shard: str) -> None:
            self.failures.extend(records)
            invocations = pollers[0].max_retries + 1
            sqs.send_message(
                QueueUrl=self.info.stream_failure_queue_url,
                MessageBody=json.dumps(
                    failure_message(records, shard, stream_arn, function_name, invocations)
                ),
            )

        pollers.append(
            StreamPoller.from_wiring(
                self.client("dynamodbstreams"),
                stream_arn,
                handler,
                function_name,
                region=self.region,
                on_failure=to_destination,
                **kwargs,
            )
        )
        return pollers[0]

    def new_poller(self, **kwargs: Any) -> StreamPoller:
        """The ingest table's stream -> profiles, notifications, flow triggers, attribution."""
        from chalicelib.handlers import streams

        return self._poller(self.info.ingest_stream_arn, streams.ingest_stream, "ingest_stream", **kwargs)

    def new_profile_poller(self, **kwargs: Any) -> StreamPoller | None:
        """The CRM table's stream -> segment memberships (None for a stack without it)."""
        from chalicelib.handlers import streams

        if not self.info.crm_stream_arn:
            return None
        return self._poller(self.info.crm_stream_arn, streams.profile_stream, "profile_stream", **kwargs)

    def new_campaign_poller(self, **kwargs: Any) -> QueuePoller | None:
        """The campaign queue -> campaign_sender (None for a stack without the queue)."""
        from chalicelib.handlers import streams

        if not (self.info.campaign_queue_url and self.info.campaign_queue_arn):
            return None
        options = {"batch_size": mapping_settings("campaign_sender").batch_size} | kwargs
        return QueuePoller(
            self.client("sqs"),
            self.info.campaign_queue_url,
            self.info.campaign_queue_arn,
            streams.campaign_sender,
            "campaign_sender",
            region=self.region,
            **options,
        )

    def drain_campaigns(self) -> int:
        """Send every campaign batch on the queue (the batches deferred are held, not looped)."""
        return self.campaign_poller.drain() if self.campaign_poller is not None else 0

    @property
    def pollers(self) -> list[StreamPoller]:
        return [p for p in (self.poller, self.profile_poller) if p is not None]

    # -- tenancy ----------------------------------------------------------------------
    def create_workspace(self, name: str = "Demo Brand", currency: str | None = "USD") -> Workspace:
        created = self.container.tenancy.create_workspace(name, currency)
        return Workspace(created.workspace_id, created.api_key)

    def add_source(
        self, ws: Workspace, platform: str, shop: str, secret: str, default_region: str | None = None
    ) -> dict[str, str]:
        info = self.container.tenancy.add_source(ws.workspace_id, platform, shop, secret, default_region)
        ws.sources[platform] = {"source_id": info.source_id, "shop": shop, "secret": secret}
        return ws.sources[platform]

    # -- HTTP through the real Chalice app ---------------------------------------------
    @property
    def http(self) -> Any:
        if self._client is None:
            from chalice.test import Client

            self._client = Client(stack.load_app(), stage_name="local", project_dir=str(stack.FUNCTIONS))
        return self._client

    def send(
        self,
        ws: Workspace,
        platform: str,
        topic: str,
        body: bytes | dict[str, Any],
        delivery_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        src = ws.sources[platform]
        h = headers_for(platform, src["shop"], topic, src["secret"], raw, delivery_id)
        h.update(headers or {})
        return self.http.http.post(f"/webhooks/{platform}", headers=h, body=raw)

    def get(self, ws: Workspace, path: str) -> Any:
        return self.http.http.get(path, headers={"Authorization": f"Bearer {ws.api_key}"})

    def drain(self) -> int:
        """Process the streams until none has anything left (profiles feed memberships)."""
        total = 0
        while True:
            handled = sum(p.drain() for p in self.pollers)
            total += handled
            if handled == 0:
                return total

    def close(self) -> None:
        set_container(None)
