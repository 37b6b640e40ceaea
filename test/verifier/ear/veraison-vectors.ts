/**
 * EAR claims-sets from veraison/ear's public test vectors (github.com/veraison/ear, Apache-2.0,
 * read at commit 961756e, 2025-11-25), re-typed here as data:
 * `arc/data/ear-claims.json`, `ear-claims-tv-ok.json`, `ear-claims-extension-ok.json`,
 * `ear-claims-key-attestation-ok.json`, `ear-claims-key-attestation-ko.json` (structurally valid;
 * "ko" only for its empty key-attestation map), the payload of the token in `ear_test.go`
 * `TestVerify_pass`, the map of `Test_populateFromMap` (integer status, numeric vector), and the
 * refusals of `TestToJSON_fail` / `TestUnmarshalJSON_fail` / `TestVerify_fail` as claims-sets.
 */

const PROFILE = 'tag:github.com,2023:veraison/ear';
const RRTRAP = { build: 'rrtrap-v1.0.0', developer: 'Acme Inc.' };
const VTS = { developer: 'https://veraison-project.org', build: 'vts 0.0.1' };

/** Claims-sets veraison/ear accepts. */
export const ACCEPTED: Readonly<Record<string, Record<string, unknown>>> = {
  'arc/data/ear-claims.json': {
    eat_profile: PROFILE,
    iat: 1666091373,
    'ear.verifier-id': RRTRAP,
    submods: {
      test: {
        'ear.status': 'affirming',
        'ear.appraisal-policy-id': 'https://veraison.example/policy/1/60a0068d',
      },
    },
  },
  'arc/data/ear-claims-tv-ok.json': {
    'ear.raw-evidence': '3q2-7w',
    iat: 1666091373,
    'ear.verifier-id': RRTRAP,
    eat_profile: PROFILE,
    submods: {
      test: {
        'ear.status': 'affirming',
        'ear.trustworthiness-vector': {
          'instance-identity': 2,
          configuration: 2,
          executables: 3,
          'file-system': 2,
          hardware: 2,
          'runtime-opaque': 2,
          'storage-opaque': 2,
          'sourced-data': 2,
        },
        'ear.appraisal-policy-id': 'https://veraison.example/policy/1/60a0068d',
      },
    },
  },
  'arc/data/ear-claims-extension-ok.json': {
    submods: {
      test: { 'ear.status': 'affirming', 'ear.appraisal-policy-id': 'policy://test/01234' },
    },
    eat_profile: PROFILE,
    iat: 1666091373,
    'ear.verifier-id': RRTRAP,
    'ear.veraison.annotated-evidence': { k1: 'v1', k2: 'v2' },
    'ear.veraison.policy-claims': { foo: 'bar', bar: 'baz' },
  },
  'arc/data/ear-claims-key-attestation-ok.json': {
    eat_profile: PROFILE,
    iat: 1666529184,
    'ear.verifier-id': VTS,
    'ear.raw-evidence': 'NzQ3MjY5NzM2NTYzNzQK',
    submods: {
      PARSEC_TPM: {
        'ear.status': 'affirming',
        'ear.trustworthiness-vector': { 'instance-identity': 2, executables: 2, hardware: 2 },
        'ear.appraisal-policy-id': 'policy://parsec/60a0068d',
        'ear.veraison.key-attestation': {
          akpub:
            'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcjSp8_MWM3gy8TugWO1TpQSj_vIksLpC-g8l5S3lpGb7PWWGoCAjEP8_A59VZwLXgwoZzN0WxuBPjpaWiWsfCQ',
        },
      },
    },
  },
  'arc/data/ear-claims-key-attestation-ko.json': {
    eat_profile: PROFILE,
    iat: 1666529184,
    'ear.verifier-id': VTS,
    'ear.raw-evidence': 'NzQ3MjY5NzM2NTYzNzQK',
    submods: {
      PARSEC_TPM: {
        'ear.status': 'contraindicated',
        'ear.trustworthiness-vector': { 'instance-identity': 2, executables: 96, hardware: 2 },
        'ear.appraisal-policy-id': 'policy://parsec/60a0068d',
        'ear.veraison.key-attestation': {},
      },
    },
  },
  'ear_test.go TestVerify_pass (payload)': {
    'ear.verifier-id': RRTRAP,
    eat_profile: PROFILE,
    iat: 1666091373,
    submods: {
      test: {
        'ear.appraisal-policy-id': 'policy://test/01234',
        'ear.status': 'affirming',
        'ear.veraison.annotated-evidence': { k1: 'v1', k2: 'v2' },
        'ear.veraison.key-attestation': { akpub: 'YWtwdWIK' },
        'ear.veraison.policy-claims': { bar: 'baz', foo: 'bar' },
      },
    },
  },
  'ear_test.go Test_populateFromMap': {
    submods: {
      test: {
        'ear.status': 2,
        'ear.trustworthiness-vector': {
          'instance-identity': 0,
          configuration: 0,
          executables: 2,
          'file-system': 0,
          hardware: 0,
          'runtime-opaque': 0,
          'storage-opaque': 0,
          'sourced-data': 0,
        },
        'ear.appraisal-policy-id': 'foo',
      },
    },
    'ear.raw-evidence': 'SSBkaWRuJ3QgZG8gaXQ',
    iat: 1234,
    eat_profile: PROFILE,
    'ear.verifier-id': RRTRAP,
  },
};

const base = ACCEPTED['arc/data/ear-claims.json']!;

/** Claims-sets veraison/ear refuses, with a word each of the refusal's message should carry. */
export const REFUSED: Readonly<Record<string, { claims: unknown; mentions: string }>> = {
  'TestUnmarshalJSON_fail {}': { claims: {}, mentions: 'eat_profile' },
  'TestUnmarshalJSON_fail []': { claims: [], mentions: 'JSON object' },
  'TestToJSON_fail unsupported profile 1.2.3.4.5': {
    claims: { ...base, eat_profile: '1.2.3.4.5' },
    mentions: 'eat_profile',
  },
  'TestToJSON_fail missing iat and verifier id': {
    claims: { eat_profile: PROFILE, submods: { test: { 'ear.status': 'affirming' } } },
    mentions: 'ear.verifier-id',
  },
  'TestToJSON_fail submodule without ear.status': {
    claims: { ...base, submods: { test: {} } },
    mentions: 'ear.status',
  },
  'TestToJSON_fail empty submods': { claims: { ...base, submods: {} }, mentions: 'submods' },
  'TestToJSON_fail nonce "1337" (4 bytes)': {
    claims: { ...base, eat_nonce: '1337' },
    mentions: 'eat_nonce',
  },
  'TestVerify_fail empty attestation result': { claims: {}, mentions: 'submods' },
};
