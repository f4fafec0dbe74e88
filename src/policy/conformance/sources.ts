// The AWS documentation each conformance case is taken from (IAM User Guide sections).

const GUIDE = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/';

export const SOURCES = {
  evaluation: `${GUIDE}reference_policies_evaluation-logic.html#policy-eval-denyallow`,
  evaluationExplicitDeny: `${GUIDE}reference_policies_evaluation-logic_policies_evaluation-logic-match.html`,
  boundaries: `${GUIDE}access_policies_boundaries.html#access_policies_boundaries-eval-logic`,
  action: `${GUIDE}reference_policies_elements_action.html`,
  resource: `${GUIDE}reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards`,
  notAction: `${GUIDE}reference_policies_elements_notaction.html`,
  notResource: `${GUIDE}reference_policies_elements_notresource.html`,
  string: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_String`,
  stringWildcard: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_String-wildcard`,
  numeric: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_Numeric`,
  date: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_Date`,
  bool: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_Boolean`,
  binary: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_BinaryEquals`,
  ip: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_IPAddress`,
  arn: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_ARN`,
  ifExists: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_IfExists`,
  nullCheck: `${GUIDE}reference_policies_elements_condition_operators.html#Conditions_Null`,
  missingKey: `${GUIDE}reference_policies_elements_condition_operators.html (Important: a key not present in the request context)`,
  multipleKeys: `${GUIDE}reference_policies_condition-logic-multiple-context-keys-or-values.html#reference_policies_multiple-conditions-eval`,
  multipleValues: `${GUIDE}reference_policies_condition-logic-multiple-context-keys-or-values.html#reference_policies_multi-key-or-value-conditions`,
  negatedMultipleValues: `${GUIDE}reference_policies_condition-logic-multiple-context-keys-or-values.html#reference_policies_multiple-conditions-negated-matching-eval`,
  forAllValues: `${GUIDE}reference_policies_condition-single-vs-multi-valued-context-keys.html#reference_policies_condition-forallvalues`,
  forAnyValue: `${GUIDE}reference_policies_condition-single-vs-multi-valued-context-keys.html#reference_policies_condition-foranyvalue`,
  multiValuedExamples: `${GUIDE}reference_policies_condition_examples-multi-valued-context-keys.html`,
  variables: `${GUIDE}reference_policies_variables.html#policy-vars-using-variables`,
  variablesTags: `${GUIDE}reference_policies_variables.html#policy-vars-tags`,
  variablesNoValue: `${GUIDE}reference_policies_variables.html#policy-vars-no-value`,
  variablesDefaults: `${GUIDE}reference_policies_variables.html#policy-vars-default-values`,
  variablesSpecialChars: `${GUIDE}reference_policies_variables.html#policy-vars-specialchars`,
  variablesVersion: `${GUIDE}reference_policies_elements_version.html`,
  conditionKeysCase: `${GUIDE}reference_policies_elements_condition.html#Condition-element-key-names`,
  abac: `${GUIDE}introduction_attribute-based-access-control.html`,
} as const;

export type SourceName = keyof typeof SOURCES;
