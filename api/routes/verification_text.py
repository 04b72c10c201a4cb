"""Words of the verification pages (`/v/<id>`, `/verify`), in Chinese and English.

The verdicts and the message of each check live in verify/messages.py; these are
the words around them, written for an employer reading a phone screen.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VERIFICATION_TEXT"]

VERIFICATION_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "凭证验证",
        "switch": "English",
        "invalid_advice": "请勿采信这份凭证。原因：",
        "warning_advice": "凭证有效，但请留意：",
        "valid_advice": "所有检查均已通过。",
        "details": "凭证内容",
        "claimed": "凭证声称的内容（未能证实）",
        "achievement": "课程",
        "issuer": "颁发机构",
        "learner": "学习者",
        "learner_hidden": "颁发机构选择不公开学习者姓名",
        "learner_masked": "（按颁发机构的设置部分隐去）",
        "awarded": "颁发日期",
        "valid_from": "生效日期",
        "valid_until": "有效期至",
        "credits": "学分",
        "level": "欧洲资历框架等级",
        "credential_id": "凭证编号",
        "checks": "逐项检查",
        "outcomes": {
            "passed": "通过",
            "failed": "未通过",
            "cannot-check": "无法检查",
            "not-applicable": "不适用",
        },
        "download": "下载凭证原件",
        "verify_another": "验证另一份凭证",
        "form_title": "验证一份凭证",
        "form_intro": "粘贴凭证（JSON 或 JWT），或上传凭证文件。"
        "验证在本服务器上完成，不会保存您提交的内容。",
        "paste": "粘贴凭证",
        "upload": "或上传文件",
        "submit": "验证",
        "limit": "最大 1 MB；上传的钱包文件最大 32 MB。",
        "not_found_title": "找不到这份凭证",
        "not_found": "本平台没有编号为此的凭证。请检查链接或二维码是否完整。",
        "errors": {
            "empty": "没有收到凭证：请粘贴凭证内容或选择一个文件。",
            "unreadable": "无法读取：内容既不是 JSON 凭证，也不是 JWT。",
            "not-object": "无法读取：JSON 内容应为一个凭证对象。",
            "too-deep": "无法读取：JSON 嵌套层级过深。",
            "not-utf8": "无法读取：文件不是 UTF-8 文本。",
            "too-large": "提交的内容超过 1 MB（钱包文件 32 MB），无法验证。",
        },
        "error_title": "无法验证",
        "back": "返回重新提交",
    },
    "en": {
        "title": "Credential verification",
        "switch": "中文",
        "invalid_advice": "Do not rely on this credential. Why:",
        "warning_advice": "The credential is valid, but note:",
        "valid_advice": "Every check passed.",
        "details": "The credential",
        "claimed": "What the credential claims (not confirmed)",
        "achievement": "Course",
        "issuer": "Issuer",
        "learner": "Learner",
        "learner_hidden": "The issuer chose not to show learners' names",
        "learner_masked": "(partly hidden by the issuer's setting)",
        "awarded": "Awarded",
        "valid_from": "Valid from",
        "valid_until": "Valid until",
        "credits": "Credits",
        "level": "EQF level",
        "credential_id": "Credential id",
        "checks": "Each check",
        "outcomes": {
            "passed": "Passed",
            "failed": "Failed",
            "cannot-check": "Could not check",
            "not-applicable": "Not applicable",
        },
        "download": "Download the credential",
        "verify_another": "Verify another credential",
        "form_title": "Verify a credential",
        "form_intro": "Paste a credential (JSON or a JWT), or upload a credential "
        "file. It is verified on this server and not kept.",
        "paste": "Paste the credential",
        "upload": "or upload a file",
        "submit": "Verify",
        "limit": "At most 1 MB; an uploaded wallet file, 32 MB.",
        "not_found_title": "No such credential",
        "not_found": "No credential with this id was issued here. Check that the "
        "link or QR code is complete.",
        "errors": {
            "empty": "No credential was received: paste one or choose a file.",
            "unreadable": "Cannot be read: this is neither a JSON credential nor "
            "a JWT.",
            "not-object": "Cannot be read: expected the JSON to be one credential "
            "object.",
            "too-deep": "Cannot be read: the JSON is nested too deeply.",
            "not-utf8": "Cannot be read: the file is not UTF-8 text.",
            "too-large": "The submission is larger than 1 MB (32 MB for an uploaded "
            "wallet) and was not verified.",
        },
        "error_title": "Cannot verify",
        "back": "Back to the form",
    },
}
