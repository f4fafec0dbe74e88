<?php
// The IdP's users: a JSON object in ATRIUM_SSP_USERS, {"name:password": {"uid": ["name"], ...}}.

$config = [
    'admin' => ['core:AdminPassword'],
    'atrium-users' => array_merge(['exampleauth:UserPass'], json_decode(getenv('ATRIUM_SSP_USERS'), true)),
];
