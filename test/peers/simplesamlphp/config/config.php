<?php
// SimpleSAMLphp as a real SAML 2.0 IdP for Atrium's peer tests (SimpleSAMLphp 1.19, Debian). The
// test names a state directory (ATRIUM_SSP_STATE) for keys, sessions and logs; nothing else is written.

$state = getenv('ATRIUM_SSP_STATE');
$config = [
    'baseurlpath' => '/',
    'certdir' => $state . '/',
    'loggingdir' => $state . '/',
    'datadir' => $state . '/',
    'tempdir' => $state . '/tmp',
    'metadatadir' => dirname(__DIR__) . '/metadata/',
    'secretsalt' => getenv('ATRIUM_SSP_SECRET'),
    'auth.adminpassword' => getenv('ATRIUM_SSP_SECRET'),
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'technicalcontact_name' => 'Atrium tests',
    'technicalcontact_email' => 'tests@example.invalid',
    'timezone' => 'UTC',
    'logging.level' => SimpleSAML\Logger::NOTICE,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'store.type' => 'phpsession',
    // Plain http on loopback: the session cookie cannot be Secure, and SameSite=None needs Secure.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.default' => 'en',
    'metadata.sources' => [['type' => 'flatfile']],
];
