#!/usr/bin/python3
"""A SAML 2.0 identity provider made of Debian's python3-pysaml2, for Atrium's peer tests.

  saml-pysaml2-idp.py init WORKDIR SP_METADATA_FILE
      make the IdP's key and certificate (and a second, untrusted pair) in WORKDIR; print its metadata
  saml-pysaml2-idp.py respond WORKDIR REDIRECT_URL NAME_ID [--unsigned] [--untrusted-key]
          [--other-audience] [--lifetime-minutes N] [--in-response-to ID] [--sign response|assertion]
          [--refuse] [--unsolicited]
      read Atrium's AuthnRequest from the HTTP-Redirect URL it sent the browser to; print a signed
      Response for NAME_ID, base64 (the SAMLResponse form field); the options forge it
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.server import Server
from saml2.sigver import verify_redirect_signature

IDP_ENTITY_ID = "https://idp.pysaml2.test/metadata"
SSO_URL = "https://idp.pysaml2.test/sso/redirect"


def make_key(workdir, name):
    key, cert = os.path.join(workdir, name + ".key"), os.path.join(workdir, name + ".crt")
    if not os.path.exists(key):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return key, cert


def server(workdir, key_name="idp", lifetime_minutes=15, want_signed_requests=True):
    key, cert = make_key(workdir, key_name)
    conf = IdPConfig()
    conf.load({
        "entityid": IDP_ENTITY_ID,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
            "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}}},
            # pysaml2 checks only signatures inside the XML; respond() checks the redirect's own.
            "want_authn_requests_signed": want_signed_requests,
        }},
        "key_file": key,
        "cert_file": cert,
        "metadata": {"local": [os.path.join(workdir, f) for f in ("sp-metadata.xml", "other-sp-metadata.xml")]},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "delete_tmpfiles": True,
    })
    return Server(config=conf)


OTHER_SP = "https://other-sp.example/metadata"


def init(args):
    with open(args.sp_metadata_file, encoding="utf-8") as src:
        sp_metadata = src.read()
    with open(os.path.join(args.workdir, "sp-metadata.xml"), "w", encoding="utf-8") as dst:
        dst.write(sp_metadata)
    # Another SP the IdP knows, so that it can be asked for an assertion meant for that audience.
    other = re.sub(r'entityID="[^"]*"', 'entityID="%s"' % OTHER_SP, sp_metadata, count=1)
    with open(os.path.join(args.workdir, "other-sp-metadata.xml"), "w", encoding="utf-8") as dst:
        dst.write(other)
    make_key(args.workdir, "untrusted")
    print(str(entity_descriptor(server(args.workdir).config)))


def respond(args):
    idp = server(args.workdir, "untrusted" if args.untrusted_key else "idp", args.lifetime_minutes, False)
    query = {k: v[0] for k, v in parse_qs(urlparse(args.redirect_url).query).items()}
    request = idp.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
    # The AuthnRequest's redirect signature, checked with the certificate in the SP's metadata.
    certs = [c for c in idp.metadata.certs(request.issuer.text, "spsso", "signing")]
    if "Signature" not in query or not any(
            verify_redirect_signature(query, idp.sec.sec_backend, cert=c[1] if isinstance(c, tuple) else c) for c in certs):
        sys.exit("the AuthnRequest's redirect signature does not verify")
    acs = request.assertion_consumer_service_url
    if not acs:
        acs = idp.metadata.assertion_consumer_service(request.issuer.text, BINDING_HTTP_POST)[0]["location"]
    if args.refuse:
        response = idp.create_error_response(request.id, acs, Exception("authentication failed"), sign=True)
        sys.stdout.write(json.dumps({"requestId": request.id, "acs": acs,
                                     "SAMLResponse": base64.b64encode(str(response).encode("utf-8")).decode("ascii")}) + "\n")
        return
    signed = not args.unsigned
    response = idp.create_authn_response(
        identity={"mail": [args.name_id]},
        in_response_to=None if args.unsolicited else (args.in_response_to or request.id),
        destination=acs,
        sp_entity_id=OTHER_SP if args.other_audience else request.issuer.text,
        name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=args.name_id),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": IDP_ENTITY_ID},
        sign_response=signed and args.sign != "assertion",
        sign_assertion=signed and args.sign != "response",
    )
    sys.stdout.write(json.dumps({"requestId": request.id, "acs": acs,
                                 "SAMLResponse": base64.b64encode(str(response).encode("utf-8")).decode("ascii")}) + "\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init")
    p.add_argument("workdir")
    p.add_argument("sp_metadata_file")
    p.set_defaults(run=init)
    p = sub.add_parser("respond")
    p.add_argument("workdir")
    p.add_argument("redirect_url")
    p.add_argument("name_id")
    p.add_argument("--unsigned", action="store_true")
    p.add_argument("--untrusted-key", action="store_true")
    p.add_argument("--sign", choices=["both", "response", "assertion"], default="both", help="what the IdP signs")
    p.add_argument("--refuse", action="store_true", help="a signed error Response: the IdP did not sign the user in")
    p.add_argument("--other-audience", action="store_true", help="an assertion for another SP, still posted to us")
    p.add_argument("--lifetime-minutes", type=int, default=15)
    p.add_argument("--in-response-to")
    p.add_argument("--unsolicited", action="store_true", help="an IdP-initiated Response: it answers no request")
    p.set_defaults(run=respond)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
