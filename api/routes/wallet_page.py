"""What `POST /verify` shows for a wallet: its own lines, then each item's
verdict and checks (DESIGN §8, §9). Verified with only what the wallet carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Response

from api.pages import page_language, render_page
from api.routes.verification_text import VERIFICATION_TEXT
from verify.messages import VERDICTS
from wallet.format import WalletFormatError
from wallet.offline import verify_wallet

__all__ = ["WALLET_TEXT", "is_wallet_submission", "wallet_page"]

WALLET_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "钱包验证",
        "intro": "以下检查只使用钱包自带的内容（凭证、日志证明、DID 文档、状态列表），"
        "未联网查询。",
        "exported": "导出时间",
        "as_of": "状态信息截至",
        "log_key": "日志公钥（钱包自带）",
        "wallet_checks": "钱包本身",
        "items": "逐份凭证",
        "credential": "凭证",
        "statement": "学分转换证明",
        "bad": "这不是一个可读的 credbank-wallet/v1 钱包文件：{problem}",
    },
    "en": {
        "title": "Wallet verification",
        "intro": "These checks use only what the wallet carries (credentials, log "
        "proofs, DID documents, status lists); nothing was looked up online.",
        "exported": "Exported",
        "as_of": "Status as of",
        "log_key": "Log key (carried by the wallet)",
        "wallet_checks": "The wallet itself",
        "items": "Each credential",
        "credential": "Credential",
        "statement": "Credit-transfer statement",
        "bad": "This is not a readable credbank-wallet/v1 file: {problem}",
    },
}

_MARKS = {"passed": "✓", "failed": "✗", "cannot-check": "?", "not-applicable": "–"}


def is_wallet_submission(given: Any) -> bool:
    """Whether a parsed submission says it is a wallet (of any version)."""
    kind = given.get("format") if isinstance(given, Mapping) else None
    return isinstance(kind, str) and kind.startswith("credbank-wallet/")


def wallet_page(given: Any) -> Response:
    """The result page of a submitted wallet, or a 400 page naming what is wrong."""
    lang = page_language()
    t = VERIFICATION_TEXT[lang]
    w = WALLET_TEXT[lang]
    try:
        result = verify_wallet(given, now=datetime.now(UTC))
    except WalletFormatError as exc:
        response = render_page(
            "verification_message.html",
            t=t,
            title=t["error_title"],
            message=w["bad"].format(problem=str(exc)[:300]),
            form_link=True,
        )
        response.status_code = 400
    else:
        response = render_page(
            "wallet_verification.html",
            t=t,
            w=w,
            result=result,
            verdicts={name: words[lang] for name, words in VERDICTS.items()},
            marks=_MARKS,
        )
    response.headers["Cache-Control"] = "no-store"
    return response
