"""The production front door: CloudFront with a WAF web ACL that limits each client address on its own.

An HTTP API cannot carry AWS WAF, and its stage throttle is one limit shared by every caller. So a stage with
``"waf_rate_limit"`` (requests per client IP in :data:`WINDOW_SECONDS`) gets, after Zappa:

- a WAFv2 web ACL ``counter-STAGE`` of scope CLOUDFRONT (which lives in us-east-1) whose rate-based rule keyed on
  the client's IP answers 429 JSON to an address over the limit until it slows down, and whose second rule answers
  413 to a body over 16 KB, the app's own limit, before API Gateway bills it per 512 KB;
- a CloudFront distribution (comment ``counter-STAGE``) in front of the stage's ``execute-api`` address, with that
  web ACL, no caching, and every viewer header but ``Host`` passed on (AllViewerExceptHostHeader, which includes
  ``CloudFront-Viewer-Address``).

Both are found by name and changed in place, so running it again changes nothing that is already right.
"""

from __future__ import annotations

import json
from typing import Any

WAF_REGION = "us-east-1"  # CLOUDFRONT-scoped web ACLs live there (WAF API reference, Scope)
WINDOW_SECONDS = 300
RULE = "per-client-ip"
BODY_RULE = "body-too-large"
MAX_BODY_BYTES = 16 * 1024  # the app's own MAX_CONTENT_LENGTH default; a stage that raises it has no front door
REFUSAL = "too-many-from-this-address"
# CloudFront managed policies (using-managed-cache-policies.html, using-managed-origin-request-policies.html).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def wanted(config: dict[str, Any]) -> bool:
    """Whether the stage has a front door."""
    return config.get("waf_rate_limit") is not None


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def rules(limit: int) -> list[dict[str, Any]]:
    """The web ACL's rules: refuse an address that sent more than ``limit`` requests in the window, and a body
    larger than the app accepts (which API Gateway would bill per 512 KB and CloudFront per GB to the origin)."""
    return [{
        "Name": RULE, "Priority": 0,
        "Statement": {"RateBasedStatement": {"Limit": limit, "AggregateKeyType": "IP",
                                             "EvaluationWindowSec": WINDOW_SECONDS}},
        "Action": {"Block": {"CustomResponse": {
            "ResponseCode": 429, "CustomResponseBodyKey": REFUSAL,
            "ResponseHeaders": [{"Name": "Retry-After", "Value": str(WINDOW_SECONDS)}]}}},
        "VisibilityConfig": _visibility(RULE),
    }, {
        "Name": BODY_RULE, "Priority": 1,
        # A CLOUDFRONT web ACL inspects the first 16 KB of a body; MATCH treats a longer one as matching.
        "Statement": {"SizeConstraintStatement": {
            "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}}, "ComparisonOperator": "GT",
            "Size": MAX_BODY_BYTES, "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
        "Action": {"Block": {"CustomResponse": {"ResponseCode": 413, "CustomResponseBodyKey": BODY_RULE}}},
        "VisibilityConfig": _visibility(BODY_RULE),
    }]


BODIES = {
    REFUSAL: {"ContentType": "APPLICATION_JSON", "Content": json.dumps(
        {"status": "failure", "error": "Too many requests from your address: please slow down and retry later."})},
    BODY_RULE: {"ContentType": "APPLICATION_JSON", "Content": json.dumps(
        {"status": "failure", "error": f"The body is larger than {MAX_BODY_BYTES} bytes; nothing was counted."})},
}


def web_acl(wafv2: Any, name: str, limit: int) -> tuple[str, str]:
    """Make or update web ACL ``name``; its ARN and what was done."""
    found = [acl for acl in wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] if acl["Name"] == name]
    if not found:
        made = wafv2.create_web_acl(Name=name, Scope="CLOUDFRONT", DefaultAction={"Allow": {}}, Rules=rules(limit),
                                    VisibilityConfig=_visibility(name), CustomResponseBodies=BODIES)["Summary"]
        return made["ARN"], f"Made web ACL {name} (us-east-1): at most {limit} requests per client IP in " \
                            f"{WINDOW_SECONDS} s."
    acl = wafv2.get_web_acl(Name=name, Scope="CLOUDFRONT", Id=found[0]["Id"])
    if acl["WebACL"]["Rules"] != rules(limit):
        wafv2.update_web_acl(Name=name, Scope="CLOUDFRONT", Id=found[0]["Id"], DefaultAction={"Allow": {}},
                             Rules=rules(limit), VisibilityConfig=_visibility(name), CustomResponseBodies=BODIES,
                             LockToken=acl["LockToken"])
        return found[0]["ARN"], f"Updated web ACL {name}: at most {limit} requests per client IP in " \
                                f"{WINDOW_SECONDS} s."
    return found[0]["ARN"], f"Web ACL {name} already limits each client IP to {limit} requests in " \
                            f"{WINDOW_SECONDS} s."


def distribution_config(name: str, origin: str, acl: str, aliases: list[str] | None = None,
                        certificate: str | None = None) -> dict[str, Any]:
    """The distribution in front of ``origin`` (the API's host name), guarded by web ACL ``acl``."""
    config: dict[str, Any] = {
        "CallerReference": name, "Comment": name, "Enabled": True, "PriceClass": "PriceClass_100",
        "HttpVersion": "http2and3", "WebACLId": acl,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "api", "DomainName": origin, "OriginPath": "",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                   "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
            "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
            "AllowedMethods": {"Quantity": len(METHODS), "Items": METHODS,
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}},
    }
    if aliases:
        config["Aliases"] = {"Quantity": len(aliases), "Items": aliases}
        config["ViewerCertificate"] = {"ACMCertificateArn": certificate, "SSLSupportMethod": "sni-only",
                                       "MinimumProtocolVersion": "TLSv1.2_2021"}
    return config


def find_distribution(cloudfront: Any, name: str) -> dict[str, Any] | None:
    """The distribution whose comment is ``name``."""
    items = cloudfront.list_distributions()["DistributionList"].get("Items", [])
    return next((item for item in items if item.get("Comment") == name), None)


def distribution(cloudfront: Any, name: str, origin: str, acl: str, aliases: list[str] | None = None,
                 certificate: str | None = None) -> tuple[dict[str, Any], str]:
    """Make or update distribution ``name``; its summary and what was done."""
    wanted_config = distribution_config(name, origin, acl, aliases, certificate)
    found = find_distribution(cloudfront, name)
    if found is None:
        made = cloudfront.create_distribution(DistributionConfig=wanted_config)["Distribution"]
        return {"Id": made["Id"], "DomainName": made["DomainName"]}, \
            f"Made CloudFront distribution {made['DomainName']} in front of {origin}, with web ACL {name}."
    current = cloudfront.get_distribution_config(Id=found["Id"])
    config = current["DistributionConfig"]
    # Without aliases (make deploy), the alias and certificate make domain set are kept as they are.
    changed = {key: value for key, value in wanted_config.items() if key != "CallerReference"}
    if all(_same(config.get(key), value) for key, value in changed.items()):
        return found, f"CloudFront distribution {found['DomainName']} is already in front of {origin}."
    cloudfront.update_distribution(Id=found["Id"], IfMatch=current["ETag"], DistributionConfig={**config, **changed})
    return found, f"Updated CloudFront distribution {found['DomainName']} in front of {origin}, with web ACL {name}."


def _same(have: Any, want: Any) -> bool:
    """Whether ``have`` (as CloudFront answers) holds everything ``want`` says; it adds defaults of its own."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(have.get(key), value) for key, value in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(map(_same, have, want))
    return have == want or str(have).lower() == str(want).lower()


def apply(session: Any, config: dict[str, Any], stage: str, name: str, api: str) -> list[str]:
    """The stage's web ACL and distribution in front of HTTP API ``api``; one sentence each, then the address."""
    wafv2 = session.client("wafv2", region_name=WAF_REGION)
    acl, said = web_acl(wafv2, name, config["waf_rate_limit"])
    origin = f"{api}.execute-api.{config['aws_region']}.amazonaws.com"
    found, done = distribution(session.client("cloudfront"), name, origin, acl)
    return [said, done, f"Front door: https://{found['DomainName']}/{stage}/ (pages load "
                        f"https://{found['DomainName']}/{stage}/counter.js)."]
