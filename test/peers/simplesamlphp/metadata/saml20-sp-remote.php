<?php
// Atrium as the SP: its own metadata, fetched from /saml/metadata by the test, read as SimpleSAMLphp's
// metadata converter would.

$file = getenv('ATRIUM_SSP_STATE') . '/sp-metadata.xml';
if (is_file($file)) {
    foreach (\SimpleSAML\Metadata\SAMLParser::parseDescriptorsFile($file) as $entity) {
        $sp = $entity->getMetadata20SP();
        if ($sp === null) {
            continue;
        }
        $metadata[$sp['entityid']] = array_merge($sp, [
            'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
            'simplesaml.nameidattribute' => 'uid',
            'validate.authnrequest' => true,
        ]);
    }
}
