<?php
// The IdP itself: its entity id and URLs follow the host it is reached at; the test makes its key.

$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'atrium-users',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    // Atrium's AuthnRequests must carry a valid signature by the key in its SP metadata.
    'validate.authnrequest' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    // The NameID is the user's uid: Atrium matches it to a UserName.
    'simplesaml.nameidattribute' => 'uid',
];
