// Tables owned by federation/ (the SAML service provider): the IdP configuration, this instance's SP
// key, the AuthnRequests we issued, the assertion ids already used, and SAML sessions' attributes.

export interface SamlIdpTable {
  /** Always 'default' for now: one IdP per instance. */
  config_id: string;
  entity_id: string;
  metadata_xml: string;
  /** 'userName' or 'email'. */
  name_id_match: string;
  /** JSON: { allowIdpInitiated, attributeMapping } (0012). */
  options_json: string;
  updated_at: number;
}

export interface SamlSpKeysTable {
  key_id: string;
  certificate_pem: string;
  /** The PEM private key, sealed by the envelope with `saml-sp-key:<key_id>` as AAD. */
  sealed_private_key: string;
  created_at: number;
}

export interface SamlRequestsTable {
  request_id: string;
  return_to: string;
  /** SHA-256 (hex) of the binding cookie of the browser that started the sign-in (0012). */
  browser_binding: string;
  created_at: number;
  expires_at: number;
}

export interface SamlAssertionsTable {
  assertion_key: string;
  expires_at: number;
}

export interface SamlSessionAttributesTable {
  session_id: string;
  /** JSON object: principal tag key → value. */
  attributes_json: string;
  expires_at: number;
}

export interface SamlTables {
  saml_idp: SamlIdpTable;
  saml_sp_keys: SamlSpKeysTable;
  saml_requests: SamlRequestsTable;
  saml_assertions: SamlAssertionsTable;
  saml_session_attributes: SamlSessionAttributesTable;
}
