import boto3
def create_and_assign_permission_set():
    sso_admin = boto3.client('sso-admin')
    # Configuration - Replace with your specific IDs
    instance_arn = 'arn:aws:sso:::instance/ssoins-1234567890abcdef'
    target_account_id = '111122223333'
    principal_id = '906731adeb-1234-5678-90ab-cdef12345678' # User or Group ID
    # 1. Create the Permission Set
    perm_set = sso_admin.create_permission_set(
        Name='SecurityAuditAccess',
        Description='Read-only access for security auditing purposes',
        InstanceArn=instance_arn,
        SessionDuration='PT4H' # 4 hour session
    )
    perm_set_arn = perm_set['PermissionSet']['PermissionSetArn']
    # 2. Attach an AWS Managed Policy
    sso_admin.attach_managed_policy_to_permission_set(
        InstanceArn=instance_arn,
        PermissionSetArn=perm_set_arn,
        ManagedPolicyArn='arn:aws:iam::aws:policy/SecurityAudit'
    )
    # 3. Assign the user to the account with this Permission Set
    response = sso_admin.create_account_assignment(
        InstanceArn=instance_arn,
        TargetId=target_account_id,
        TargetType='AWS_ACCOUNT',
        PermissionSetArn=perm_set_arn,
        PrincipalType='GROUP',
        PrincipalId=principal_id
    )
    print(f"Assignment status: {response['AccountAssignmentCreationStatus']['Status']}")
if __name__ == "__main__":
    create_and_assign_permission_set()
