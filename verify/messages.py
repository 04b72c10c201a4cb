"""The words for every finding of the verification procedure, in Chinese and English.

Keys are the stable codes of verify/result.py; `{name}` placeholders are filled from
the check's values. Written for an employer reading a phone screen: short, plain, no
jargon where a plain word will do.
"""

from __future__ import annotations

__all__ = ["MESSAGES", "VERDICTS"]

MESSAGES: dict[str, dict[str, str]] = {
    # Step 1: parsing.
    "format.data-integrity": {
        "zh": "凭证格式可识别（数据完整性证明 {suite}）",
        "en": "Recognised credential format (Data Integrity proof, {suite})",
    },
    "format.vc-jwt": {
        "zh": "凭证格式可识别（JWT 签名凭证）",
        "en": "Recognised credential format (signed JWT)",
    },
    "format.malformed": {
        "zh": "无法读取：不是有效的凭证",
        "en": "Cannot be read: this is not a well-formed credential",
    },
    "format.unsecured": {
        "zh": "凭证没有签名，无法验证",
        "en": "The credential carries no signature, so it cannot be verified",
    },
    # Step 2: the verification method.
    "method.resolved": {
        "zh": "已找到颁发机构的签名公钥",
        "en": "The issuer's signing key was found",
    },
    "method.unknown": {
        "zh": "签名所用的公钥不属于该颁发机构",
        "en": "The signing key does not belong to this issuer",
    },
    "method.not-allowed": {
        "zh": "颁发机构的域名不在允许列表中，未联网查询其公钥",
        "en": "The issuer's host is not on the allow-list, so its key was not fetched",
    },
    "method.unavailable": {
        "zh": "暂时无法取得颁发机构的公钥",
        "en": "The issuer's key could not be obtained",
    },
    # Step 3: the signature.
    "signature.valid": {
        "zh": "签名有效，内容未被改动",
        "en": "The signature is valid: the content has not been changed",
    },
    "signature.invalid": {
        "zh": "签名无效：内容可能已被篡改",
        "en": "The signature is not valid: the content may have been altered",
    },
    "signature.not-checked": {
        "zh": "未能检查签名",
        "en": "The signature could not be checked",
    },
    # Step 4: the data model.
    "data-model.valid": {
        "zh": "凭证内容符合 W3C 可验证凭证 2.0 和开放徽章 3.0 标准",
        "en": "The content follows W3C Verifiable Credentials 2.0 and Open Badges 3.0",
    },
    "data-model.valid-vc": {
        "zh": "凭证内容符合 W3C 可验证凭证 2.0 标准",
        "en": "The content follows W3C Verifiable Credentials 2.0",
    },
    "data-model.invalid": {
        "zh": "凭证内容不符合标准：{field}",
        "en": "The content does not follow the standard: {field}",
    },
    # Step 5: the validity period.
    "validity.current": {
        "zh": "在有效期内",
        "en": "Within its validity period",
    },
    "validity.not-yet": {
        "zh": "尚未生效（生效日期 {date}）",
        "en": "Not valid yet (valid from {date})",
    },
    "validity.expired": {
        "zh": "已过期（截止日期 {date}）",
        "en": "Expired (valid until {date})",
    },
    # Step 6: status.
    "status.active": {
        "zh": "未被撤销，也未被暂停",
        "en": "Neither revoked nor suspended",
    },
    "status.revoked": {
        "zh": "已被颁发机构撤销",
        "en": "Revoked by the issuer",
    },
    "status.suspended": {
        "zh": "已被颁发机构暂停",
        "en": "Suspended by the issuer",
    },
    "status.unreadable": {
        "zh": "无法读取状态列表，不能确认是否已被撤销",
        "en": "The status list could not be read: revocation cannot be ruled out",
    },
    "status.not-allowed": {
        "zh": "状态列表所在网站不在允许列表中，未联网读取，不能确认是否已被撤销",
        "en": "The status list's host is not on the allow-list, so it was not read: "
        "revocation cannot be ruled out",
    },
    "status.none": {
        "zh": "凭证未声明状态列表",
        "en": "The credential names no status list",
    },
    "status.stale": {
        "zh": "未被撤销或暂停（状态信息截至 {date}）",
        "en": "Neither revoked nor suspended (status as of {date})",
    },
    # Step 7: the issuer's accreditation.
    "issuer.accredited": {
        "zh": "颁发时，颁发机构已通过认定",
        "en": "The issuer was accredited when it issued this credential",
    },
    "issuer.accredited-now-suspended": {
        "zh": "颁发时已通过认定；该机构目前被暂停",
        "en": "The issuer was accredited at issuance; it is suspended now",
    },
    "issuer.not-accredited": {
        "zh": "颁发时，颁发机构未获认定",
        "en": "The issuer was not accredited when this credential was issued",
    },
    "issuer.time-unknown": {
        "zh": "无法确认颁发时间，因此无法确认颁发时的认定状态",
        "en": "When this was issued is unknown, so accreditation cannot be checked",
    },
    "issuer.external": {
        "zh": "颁发机构不在本平台登记，不适用",
        "en": "The issuer is not registered here: not applicable",
    },
    # Step 8: the achievement.
    "achievement.active": {
        "zh": "课程有效",
        "en": "The course is active",
    },
    "achievement.retired": {
        "zh": "课程已于 {date} 停办（在颁发之后），凭证仍然有效",
        "en": "The course was retired on {date}, after issuance; the credential stands",
    },
    "achievement.unknown": {
        "zh": "该课程未经本平台认定",
        "en": "The course was never approved here",
    },
    "achievement.retired-before": {
        "zh": "课程在颁发之前已停办",
        "en": "The course was retired before this credential was issued",
    },
    "achievement.time-unknown": {
        "zh": "课程已停办，但无法确认凭证的颁发时间",
        "en": "The course was retired; when this was issued is unknown",
    },
    "achievement.external": {
        "zh": "课程不在本平台登记，不适用",
        "en": "The course is not registered here: not applicable",
    },
    # Step 9: the key's state.
    "key-state.good": {
        "zh": "签名公钥未被报告泄露",
        "en": "The signing key has not been reported compromised",
    },
    "key-state.compromised-after": {
        "zh": "签名公钥在凭证登记之后被报告泄露，凭证仍然有效",
        "en": "The signing key was reported compromised after this was logged",
    },
    "key-state.compromised-before": {
        "zh": "签名公钥在凭证登记之前已被报告泄露",
        "en": "The signing key had been reported compromised before this was logged",
    },
    "key-state.unknown-time": {
        "zh": "签名公钥已被报告泄露，无法确认凭证登记时间",
        "en": "The key was reported compromised; when this was logged is unknown",
    },
    "key-state.not-checked": {
        "zh": "未找到签名公钥，无法确认它是否被报告泄露",
        "en": "No signing key was found, so its state could not be checked",
    },
    # Step 10: the transparency log.
    "log.included": {
        "zh": "已在公开透明日志中登记（第 {index} 条）",
        "en": "Recorded in the public transparency log (entry {index})",
    },
    "log.missing": {
        "zh": "透明日志中没有这份凭证的记录",
        "en": "The transparency log has no record of this credential",
    },
    "log.unavailable": {
        "zh": "无法取得透明日志证明",
        "en": "The transparency log proof could not be obtained",
    },
    "log.external": {
        "zh": "不是本平台颁发的凭证，不适用",
        "en": "Not issued through this service: not applicable",
    },
    # Presentations.
    "presentation.valid": {
        "zh": "出示者的签名有效",
        "en": "The presenter's signature is valid",
    },
    "presentation.invalid": {
        "zh": "出示者的签名无效：{field}",
        "en": "The presenter's signature is not valid: {field}",
    },
    "presentation.unsigned": {
        "zh": "出示未签名",
        "en": "The presentation is not signed",
    },
    "presentation.credential": {
        "zh": "第 {index} 份凭证：{verdict}",
        "en": "Credential {index}: {verdict}",
    },
}

VERDICTS: dict[str, dict[str, str]] = {
    "valid": {"zh": "有效", "en": "Valid"},
    "invalid": {"zh": "无效", "en": "Not valid"},
    "valid-with-warnings": {"zh": "有效，但请注意", "en": "Valid, with warnings"},
}
