"""The front door (CloudFront + a WAF rate rule per client IP) and the custom domain, made on moto in-process:
what each makes, that running either again changes nothing, and that they refuse a certificate in the wrong region."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from deploy import domain, frontdoor, guardrails
from deploy.stages import stage_settings

CERT_US = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
CERT_EU = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


@pytest.fixture
def session(monkeypatch):
    """moto in-process; its custom domains get the ``ApiGatewayDomainName`` API Gateway gives them (the DNS
    record's target, API_DomainNameConfiguration), which moto 5.2.5 leaves out."""
    from moto.apigatewayv2.models import DomainName

    made = DomainName.__init__

    def with_target(self, domain_name, domain_name_configurations, *args, **kwargs):
        for given in domain_name_configurations:
            given.setdefault("apiGatewayDomainName", f"d-{abs(hash(domain_name)) % 10**10:010d}.execute-api."
                                                     "eu-west-1.amazonaws.com")
        made(self, domain_name, domain_name_configurations, *args, **kwargs)

    monkeypatch.setattr(DomainName, "__init__", with_target)
    with mock_aws():
        yield boto3.session.Session(region_name="eu-west-1")


def http_api(session, stage: str) -> str:
    gateway = session.client("apigatewayv2")
    api = gateway.create_api(Name=f"counter-{stage}", ProtocolType="HTTP")["ApiId"]
    gateway.create_stage(ApiId=api, StageName=stage)
    return api


def distributions(session) -> list[dict]:
    return session.client("cloudfront").list_distributions()["DistributionList"].get("Items", [])


def test_the_front_door_limits_each_address_and_a_second_run_changes_nothing(session):
    config = stage_settings("prod")
    first = frontdoor.apply(session, config, "prod", "counter-prod", "abc123")
    assert first[0] == "Made web ACL counter-prod (us-east-1): at most 300 requests per client IP in 300 s."
    wafv2 = session.client("wafv2", region_name="us-east-1")
    (summary,) = wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
    acl = wafv2.get_web_acl(Name="counter-prod", Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]
    assert acl["Rules"] == frontdoor.rules(300)
    block = acl["Rules"][0]["Action"]["Block"]["CustomResponse"]
    assert (block["ResponseCode"], block["ResponseHeaders"]) == (429, [{"Name": "Retry-After", "Value": "300"}])
    (made,) = distributions(session)
    assert made["WebACLId"] == summary["ARN"] and made["Comment"] == "counter-prod"
    assert made["DefaultCacheBehavior"]["OriginRequestPolicyId"] == frontdoor.ALL_VIEWER_EXCEPT_HOST
    assert made["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"

    again = frontdoor.apply(session, config, "prod", "counter-prod", "abc123")
    assert again[0].startswith("Web ACL counter-prod already limits") and " is already in front of " in again[1]
    assert len(distributions(session)) == 1 and len(wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]) == 1

    lower = frontdoor.apply(session, {**config, "waf_rate_limit": 100}, "prod", "counter-prod", "abc123")
    assert lower[0].startswith("Updated web ACL counter-prod: at most 100")
    assert wafv2.get_web_acl(Name="counter-prod", Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]["Rules"] == \
        frontdoor.rules(100)


def test_dev_has_no_front_door():
    """WAF costs $5 a web ACL and $1 a rule each month, more than dev's traffic; its throttle stays its limit."""
    assert not frontdoor.wanted(stage_settings("dev")) and frontdoor.wanted(stage_settings("prod"))


def test_a_regional_custom_domain_for_the_http_api(session, monkeypatch):
    api = http_api(session, "dev")
    monkeypatch.setattr(guardrails, "api_id", lambda session, config, name: api)
    said = domain.main("dev", "counter.example.com", CERT_EU, session)
    gateway = session.client("apigatewayv2")
    made = gateway.get_domain_name(DomainName="counter.example.com")["DomainNameConfigurations"][0]
    assert (made["EndpointType"], made["CertificateArn"]) == ("REGIONAL", CERT_EU)
    (mapping,) = gateway.get_api_mappings(DomainName="counter.example.com")["Items"]
    assert (mapping["ApiId"], mapping["Stage"], mapping.get("ApiMappingKey", "")) == (api, "dev", "")
    assert f"Create this DNS record: counter.example.com. CNAME {made['ApiGatewayDomainName']}" in said
    assert "Then pages load https://counter.example.com/counter.js." in said

    again = domain.main("dev", "counter.example.com", CERT_EU, session)
    assert "Custom domain counter.example.com exists." in again and "is already at" in again
    assert len(gateway.get_api_mappings(DomainName="counter.example.com")["Items"]) == 1
    assert again.splitlines()[-2:] == said.splitlines()[-2:]


def test_behind_the_front_door_the_domain_is_a_cloudfront_alias(session, monkeypatch):
    monkeypatch.setattr(guardrails, "api_id", lambda session, config, name: "abc123")
    config = stage_settings("prod")
    with pytest.raises(SystemExit, match="has no CloudFront distribution yet: run make deploy STAGE=prod"):
        domain.main("prod", "counter.example.com", CERT_US, session)
    frontdoor.apply(session, config, "prod", "counter-prod", "abc123")
    said = domain.main("prod", "counter.example.com", CERT_US, session)
    (made,) = distributions(session)
    assert made["Aliases"]["Items"] == ["counter.example.com"]
    assert made["ViewerCertificate"]["ACMCertificateArn"] == CERT_US
    assert f"Create this DNS record: counter.example.com. CNAME {made['DomainName']}" in said
    assert "Then pages load https://counter.example.com/prod/counter.js." in said
    # The next make deploy keeps the alias, and so does running make domain again.
    frontdoor.apply(session, config, "prod", "counter-prod", "abc123")
    domain.main("prod", "counter.example.com", CERT_US, session)
    (kept,) = distributions(session)
    assert kept["Aliases"]["Items"] == ["counter.example.com"] and kept["WebACLId"] == made["WebACLId"]


@pytest.mark.parametrize(("stage", "certificate", "sentence"), [
    ("dev", CERT_US, "An HTTP API's custom domain needs its certificate in eu-west-1"),
    ("prod", CERT_EU, "CloudFront needs the certificate for counter.example.com in us-east-1"),
    ("dev", "not-an-arn", "not-an-arn is not an ACM certificate ARN"),
])
def test_a_certificate_in_the_wrong_region_is_refused_before_anything_is_made(session, monkeypatch, stage,
                                                                             certificate, sentence):
    monkeypatch.setattr(guardrails, "api_id", lambda session, config, name: "abc123")
    with pytest.raises(SystemExit, match=sentence):
        domain.main(stage, "counter.example.com", certificate, session)
    assert session.client("apigatewayv2").get_domain_names()["Items"] == [] and distributions(session) == []
