"""``make domain STAGE=prod DOMAIN=counter.example.com CERT=arn:aws:acm:...``: the stage's custom domain.

Zappa 0.63's ``certify`` speaks only the REST API (``apigateway.create_domain_name``, ``create_base_path_mapping``
with a ``restApiId``, stack resource ``Api``), and this stack's API is an HTTP API (``ApiV2``). So:

- with the front door (``waf_rate_limit``), the domain becomes an alias of the CloudFront distribution, whose
  certificate must be in us-east-1; pages keep the stage in the path (``/prod/counter.js``), as on the
  distribution's own address;
- without it, an API Gateway Regional custom domain (HTTP APIs take no other kind; the certificate in the API's
  region) with an API mapping of the stage at the domain's root: pages use ``/counter.js``.

Each step finds what is already there, so running it again changes nothing; it prints the DNS record to create.
"""

from __future__ import annotations

from typing import Any

import boto3

from . import frontdoor, guardrails
from .stages import function_name, stage_settings


def certificate_region(arn: str) -> str:
    """The region of an ACM certificate's ARN (``arn:aws:acm:REGION:ACCOUNT:certificate/ID``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[:3] != ["arn", "aws", "acm"]:
        raise SystemExit(f"{arn} is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID).")
    return parts[3]


def regional(gateway: Any, api: str, stage: str, domain: str, certificate: str) -> tuple[str, list[str]]:
    """The Regional custom domain with ``stage`` of HTTP API ``api`` at its root; its target and what was done."""
    done = []
    try:
        found = gateway.get_domain_name(DomainName=domain)
        done.append(f"Custom domain {domain} exists.")
    except gateway.exceptions.NotFoundException:
        found = gateway.create_domain_name(DomainName=domain, DomainNameConfigurations=[{
            "CertificateArn": certificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
        done.append(f"Made Regional custom domain {domain}.")
    mappings = gateway.get_api_mappings(DomainName=domain).get("Items", [])
    if not any(m["ApiId"] == api and m["Stage"] == stage and not m.get("ApiMappingKey") for m in mappings):
        gateway.create_api_mapping(DomainName=domain, ApiId=api, Stage=stage, ApiMappingKey="")
        done.append(f"Mapped stage {stage} of API {api} at https://{domain}/.")
    else:
        done.append(f"Stage {stage} of API {api} is already at https://{domain}/.")
    return found["DomainNameConfigurations"][0]["ApiGatewayDomainName"], done


def main(stage: str, domain: str, certificate: str, session: Any = None) -> str:
    """Give ``stage`` the custom ``domain`` with ACM ``certificate``; what was done and the DNS record to create."""
    config = stage_settings(stage)
    session = session or boto3.session.Session(region_name=config["aws_region"])
    name = function_name(stage)
    api = guardrails.api_id(session, config, name)
    where = certificate_region(certificate)
    if frontdoor.wanted(config):
        if where != frontdoor.WAF_REGION:
            raise SystemExit(f"CloudFront needs the certificate for {domain} in us-east-1, not {where}: request "
                             "or import it there.")
        cloudfront = session.client("cloudfront")
        found = frontdoor.find_distribution(cloudfront, name)
        if found is None:
            raise SystemExit(f"The {stage} stage has no CloudFront distribution yet: run make deploy STAGE={stage}.")
        acl = cloudfront.get_distribution_config(Id=found["Id"])["DistributionConfig"]["WebACLId"]
        origin = f"{api}.execute-api.{config['aws_region']}.amazonaws.com"
        target, said = frontdoor.distribution(cloudfront, name, origin, acl, [domain], certificate)
        done, target_name, path = [said], target["DomainName"], f"/{stage}/"
    else:
        if where != config["aws_region"]:
            raise SystemExit(f"An HTTP API's custom domain needs its certificate in {config['aws_region']}, the "
                             f"API's region, not {where}.")
        target_name, done = regional(session.client("apigatewayv2"), api, stage, domain, certificate)
        path = "/"
    return "\n".join([*done, f"Create this DNS record: {domain}. CNAME {target_name}",
                      f"Then pages load https://{domain}{path}counter.js."])
