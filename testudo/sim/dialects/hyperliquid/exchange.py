"""Hyperliquid ``POST /exchange``: signature and nonce checks, then the action."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from testudo.sim.accounts import AgentLimitError, Credentials, nonce_capacity
from testudo.sim.dialects.hyperliquid.common import (
    ADDRESS,
    CLOID,
    DAY_MS,
    ActionError,
    VenueContext,
    WireError,
    ok,
)
from testudo.sim.dialects.hyperliquid.orders import (
    check_reference,
    check_trigger_price,
    order_request,
    order_status,
    rejection_message,
)
from testudo.sim.dialects.hyperliquid.signing import (
    USER_SIGNED_TYPES,
    SignatureError,
    recover_l1,
    recover_user_signed,
)
from testudo.sim.model import Rejected
from testudo.sim.money import ZERO, parse_decimal


class ExchangeApi(VenueContext):
    """Verifies and carries out signed actions."""

    def act(self, body: Mapping[str, object]) -> object:
        """Verify signature and nonce of a signed request, then carry its action out."""
        action = body.get("action")
        nonce = body.get("nonce")
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            raise WireError("missing field `action`")
        if not isinstance(nonce, int) or isinstance(nonce, bool):
            raise WireError("missing field `nonce`")
        vault = body.get("vaultAddress")
        if vault is not None:
            raise ActionError(f"Vault not registered: {vault}")
        expires = body.get("expiresAfter")
        if expires is not None and (not isinstance(expires, int) or expires < self.now):
            raise ActionError("Action expired")
        if not self.now - DAY_MS < nonce < self.now + DAY_MS:
            raise ActionError(f"Invalid nonce: nonce {nonce} is too far from the current time")
        kind = str(action["type"])
        try:
            if kind in USER_SIGNED_TYPES:
                return self._user_signed(kind, action, nonce, body.get("signature"))
            signer = recover_l1(
                action,
                nonce,
                body.get("signature"),
                vault_address=None,
                expires_after=expires if isinstance(expires, int) else None,
                mainnet=self.mainnet,
            )
        except SignatureError as exc:
            raise WireError(str(exc)) from exc
        self.sim.requests.note_signer(signer)
        creds = self.sim.registry.acting_user(signer, self.now)
        if creds is None:
            raise ActionError(f"User or API Wallet {signer.lower()} does not exist.")
        self._nonce(signer, nonce, creds)
        return self._l1_action(kind, action, creds)

    def _nonce(self, signer: str, nonce: int, creds: Credentials) -> None:
        """Hyperliquid's per-signer nonce set, sized by the account's cumulative volume."""
        volume = self.engine.account(creds.account_id).traded_notional
        refused = self.sim.registry.nonces.accept(signer, nonce, nonce_capacity(volume))
        if refused is not None:
            raise ActionError(refused)

    def _user_signed(
        self, kind: str, action: Mapping[str, object], nonce: int, signature: object
    ) -> object:
        if action.get("nonce") != nonce:
            raise ActionError("Invalid nonce: action nonce does not match request nonce")
        expected_chain = "Mainnet" if self.mainnet else "Testnet"
        if action.get("hyperliquidChain") != expected_chain:
            raise ActionError(f"Invalid hyperliquidChain, expected {expected_chain}")
        signers = recover_user_signed(action, signature)
        creds = next(
            (c for c in (self.sim.registry.wallet(s) for s in signers) if c is not None), None
        )
        if creds is None:
            raise ActionError(f"Must deposit before performing actions. User: {signers[0].lower()}")
        self.sim.requests.note_signer(creds.wallet_address)
        self._nonce(creds.wallet_address, nonce, creds)
        if kind == "approveAgent":
            return self._approve_agent(action, creds)
        return self._approve_builder_fee(action, creds)

    def _approve_agent(self, action: Mapping[str, object], creds: Credentials) -> object:
        agent = action.get("agentAddress")
        if not isinstance(agent, str) or not ADDRESS.match(agent):
            raise WireError("agentAddress must be an address")
        if agent.lower() == creds.wallet_address.lower():
            raise ActionError("Cannot approve the user's own address as an agent")
        raw_name = action.get("agentName") or ""
        name = str(raw_name)
        valid_until = None
        if " valid_until " in name:
            name, _, until = name.partition(" valid_until ")
            valid_until = int(until) if until.isdigit() else None
        try:
            self.sim.registry.approve_agent(creds.wallet_address, agent, name, valid_until)
        except AgentLimitError as exc:
            raise ActionError(str(exc)) from None
        return ok("default")

    def _approve_builder_fee(self, action: Mapping[str, object], creds: Credentials) -> object:
        builder = action.get("builder")
        rate_text = action.get("maxFeeRate")
        if not isinstance(builder, str) or not ADDRESS.match(builder):
            raise WireError("builder must be an address")
        if not isinstance(rate_text, str) or not rate_text.endswith("%"):
            raise WireError("maxFeeRate must be a percentage")
        rate = parse_decimal(rate_text[:-1]) / 100
        if rate > Decimal("0.001"):
            raise ActionError("Builder fee is too high: max is 0.1%")
        self.sim.registry.builder_fees[(creds.wallet_address.lower(), builder.lower())] = rate
        return ok("default")

    def _l1_action(self, kind: str, action: Mapping[str, object], creds: Credentials) -> object:
        if kind == "order":
            return self._orders(action, creds)
        if kind in ("cancel", "cancelByCloid"):
            return self._cancels(kind, action, creds)
        if kind == "updateLeverage":
            return self._update_leverage(action, creds)
        if kind == "setReferrer":
            return ok("default")
        raise ActionError(f"Action type {kind} is not supported by the simulator")

    def _update_leverage(self, action: Mapping[str, object], creds: Credentials) -> object:
        instrument = self.asset(action.get("asset"))
        leverage = action.get("leverage")
        if not isinstance(leverage, int) or isinstance(leverage, bool):
            raise WireError("leverage must be an integer")
        try:
            self.engine.set_leverage(creds.account_id, instrument.symbol, leverage)
        except Rejected:
            raise ActionError("Invalid leverage value") from None
        return ok("default")

    def _builder_rate(self, action: Mapping[str, object], creds: Credentials) -> Decimal:
        builder = action.get("builder")
        if builder is None:
            return ZERO
        if not isinstance(builder, dict) or not isinstance(builder.get("b"), str):
            raise WireError("builder must be {b, f}")
        fee = builder.get("f")
        if not isinstance(fee, int) or fee < 0:
            raise WireError("builder fee f must be a non-negative integer")
        rate = Decimal(fee) / 100_000
        approved = self.sim.registry.builder_fees.get(
            (creds.wallet_address.lower(), str(builder["b"]).lower())
        )
        if rate > 0 and (approved is None or rate > approved):
            raise ActionError("Builder fee has not been approved.")
        return rate

    def _orders(self, action: Mapping[str, object], creds: Credentials) -> object:
        wire_orders = action.get("orders")
        grouping = action.get("grouping", "na")
        if not isinstance(wire_orders, list) or grouping not in (
            "na",
            "normalTpsl",
            "positionTpsl",
        ):
            raise WireError("orders must be a list and grouping na|normalTpsl|positionTpsl")
        extra = self._builder_rate(action, creds)
        statuses: list[object] = []
        parent_id: int | None = None
        for index, wire in enumerate(wire_orders):
            child = grouping == "normalTpsl" and index > 0
            if child and parent_id is None:
                statuses.append({"error": "Parent order was not placed."})
                continue
            request, instrument = order_request(self.by_index, wire, extra, grouping)
            if child:
                request = attrs.evolve(request, parent_id=parent_id)
            try:
                check_trigger_price(request)
                check_reference(self.engine, instrument, request)
                result = self.engine.place(creds.account_id, request)
            except Rejected as exc:
                statuses.append({"error": rejection_message(exc, instrument)})
                continue
            if grouping == "normalTpsl" and index == 0:
                parent_id = result.order.id
            grouped = grouping != "na" and request.trigger is not None
            statuses.append("waitingForTrigger" if grouped else order_status(result, instrument))
        return ok("order", {"statuses": statuses})

    def _cancels(self, kind: str, action: Mapping[str, object], creds: Credentials) -> object:
        cancels = action.get("cancels")
        if not isinstance(cancels, list):
            raise WireError("cancels must be a list")
        statuses: list[object] = []
        for cancel in cancels:
            if not isinstance(cancel, dict):
                raise WireError("cancel must be an object")
            order_id: int | None = None
            client_id: str | None = None
            if kind == "cancel":
                instrument = self.asset(cancel.get("a"))
                oid = cancel.get("o")
                if not isinstance(oid, int):
                    raise WireError("o must be an integer")
                order_id = oid
            else:
                instrument = self.asset(cancel.get("asset"))
                cloid = cancel.get("cloid")
                if not isinstance(cloid, str) or not CLOID.match(cloid):
                    raise WireError("cloid must be 16 bytes of hex")
                client_id = cloid
            try:
                self.engine.cancel(
                    creds.account_id,
                    symbol=instrument.symbol,
                    order_id=order_id,
                    client_id=client_id,
                )
                statuses.append("success")
            except Rejected:
                statuses.append(
                    {
                        "error": "Order was never placed, already canceled, or filled. "
                        f"asset={instrument.index}"
                    }
                )
        return ok("cancel", {"statuses": statuses})
