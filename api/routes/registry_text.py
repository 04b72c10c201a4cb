"""Words of the trust list pages, in Chinese and English."""

from __future__ import annotations

from typing import Any

__all__ = ["TRUST_LIST_TEXT"]

TRUST_LIST_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "认证发证机构名录",
        "intro": "以下机构经评审委员会认证，可颁发可验证的微证书。"
        "每项决定都记录在公开的透明日志中。",
        "none": "暂无认证机构。",
        "history": "认证记录",
        "active": "在用课程",
        "retired": "已停用课程",
        "course": "课程",
        "credits": "学分",
        "review": "下次评审",
        "overdue": "评审逾期",
        "status": {
            "applied": "申请中",
            "accredited": "已认证",
            "rejected": "未通过",
            "suspended": "已暂停",
            "approved": "已批准",
            "retired": "已停用",
        },
        "kinds": {
            "school": "院校",
            "enterprise": "企业",
            "training_centre": "培训中心",
        },
    },
    "en": {
        "title": "Accredited issuers",
        "intro": "These organisations are accredited by the review committee to issue "
        "verifiable micro-credentials. Every decision is recorded in the public "
        "transparency log.",
        "none": "No issuer is accredited yet.",
        "history": "Accreditation history",
        "active": "Active courses",
        "retired": "Retired courses",
        "course": "Course",
        "credits": "Credits",
        "review": "Next review",
        "overdue": "Review overdue",
        "status": {
            "applied": "Applied",
            "accredited": "Accredited",
            "rejected": "Rejected",
            "suspended": "Suspended",
            "approved": "Approved",
            "retired": "Retired",
        },
        "kinds": {
            "school": "School",
            "enterprise": "Enterprise",
            "training_centre": "Training centre",
        },
    },
}
