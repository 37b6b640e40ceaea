/**
 * The JSON Schema (draft-07) of twi policy files. `docs/policy.schema.json` is a copy of
 * {@link policySchema} that a test keeps identical.
 *
 * @module
 */
import { TCB_STATUSES } from '../platforms/tdx/verify/tcb-status.js';
import { registrationsSchema } from './registrations.js';

const hex = (bytes: number, what: string) => ({
  type: 'string',
  pattern: `^[0-9a-fA-F]{${bytes * 2}}$`,
  description: `${what}: ${bytes} bytes as ${bytes * 2} hex digits`,
});

const oneOrMany = (item: object) => ({
  anyOf: [item, { type: 'array', items: item, minItems: 1 }],
});

const ref48 = (field: string) => oneOrMany(hex(48, field));

const flags = (names: readonly string[], extra: Record<string, object> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    ...Object.fromEntries(names.map((n) => [n, { type: 'boolean' }])),
    debug: {
      const: false,
      description: 'DEBUG is governed by allow_debug; only false is accepted',
    },
    ...extra,
  },
});

const uint = (max: number) => ({ type: 'integer', minimum: 0, maximum: max });

const tdxSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mrtd: ref48('MRTD'),
    rtmr0: ref48('RTMR0'),
    rtmr1: ref48('RTMR1'),
    rtmr2: ref48('RTMR2'),
    rtmr3: ref48('RTMR3'),
    mrseam: ref48('MRSEAM'),
    mrconfigid: ref48('MRCONFIGID'),
    mrowner: ref48('MROWNER'),
    mrownerconfig: ref48('MROWNERCONFIG'),
    mrservicetd: ref48('MRSERVICETD'),
    shim: ref48('shim digest (SHA-384, replayed from the event log)'),
    xfam: oneOrMany(hex(8, 'XFAM, raw little-endian bytes')),
    td_attributes: {
      ...flags(['sept_ve_disable', 'pks', 'kl', 'perfmon'], {
        value: hex(8, 'TDATTRIBUTES, raw little-endian bytes'),
        mask: hex(8, 'mask over the raw TDATTRIBUTES bytes'),
      }),
      dependencies: { mask: ['value'] },
    },
    fmspcs: oneOrMany(hex(6, 'FMSPC')),
    min_tcb_evaluation_data_number: {
      ...uint(0xffff_ffff),
      description:
        'lowest tcbEvaluationDataNumber of TCB Info and QE identity accepted (TCB recovery floor)',
    },
  },
};

const snpSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    measurement: ref48('MEASUREMENT'),
    host_data: oneOrMany(hex(32, 'HOST_DATA')),
    id_key_digest: ref48('ID_KEY_DIGEST'),
    author_key_digest: ref48('AUTHOR_KEY_DIGEST'),
    policy: {
      ...flags(
        [
          'smt',
          'migrate_ma',
          'single_socket',
          'cxl_allow',
          'mem_aes_256_xts',
          'rapl_dis',
          'ciphertext_hiding_dram',
          'page_swap_disable',
        ],
        { abi_major_min: uint(255), abi_minor_min: uint(255) },
      ),
      dependencies: { abi_minor_min: ['abi_major_min'] },
    },
    min_tcb: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        bl: uint(255),
        tee: uint(255),
        snp: uint(255),
        ucode: uint(255),
        fmc: uint(255),
      },
    },
    vmpl: {
      anyOf: [
        { type: 'array', items: uint(3), minItems: 1, uniqueItems: true },
        {
          type: 'object',
          additionalProperties: false,
          required: ['max'],
          properties: { max: uint(3) },
        },
      ],
    },
    guest_svn_min: uint(0xffffffff),
    chip_ids: oneOrMany(hex(64, 'CHIP_ID')),
    products: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  },
};

const pcrValue = {
  type: 'string',
  pattern: '^([0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$',
  description: 'PCR value: 32, 48 or 64 bytes as hex',
};

const nitroSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pcrs: {
      type: 'object',
      propertyNames: { pattern: '^([0-9]|[12][0-9]|3[01])$' },
      additionalProperties: oneOrMany(pcrValue),
      minProperties: 1,
    },
  },
};

/** JSON Schema of a policy file (JSON or YAML). */
export const policySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://twi.dev/schemas/policy-v1.json',
  title: 'twi appraisal policy',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', minLength: 1, description: 'reported in ear_appraisal_policy_ids' },
    description: { type: 'string' },
    platforms: {
      type: 'array',
      items: { enum: ['tdx', 'sev-snp', 'nitro'] },
      minItems: 1,
      uniqueItems: true,
    },
    allow_debug: { type: 'boolean' },
    tcb: {
      type: 'object',
      additionalProperties: false,
      properties: {
        accept: {
          type: 'object',
          propertyNames: { enum: [...TCB_STATUSES] },
          additionalProperties: { enum: ['affirming', 'warning', 'contraindicated'] },
        },
      },
    },
    tdx: tdxSchema,
    'sev-snp': snpSchema,
    nitro: nitroSchema,
    registrations: registrationsSchema,
    allow_unregistered_workload_names: { type: 'boolean' },
    require_registration: { type: 'boolean' },
    agents: {
      type: 'object',
      additionalProperties: false,
      description: 'agents trusted to request credentials for the workloads they serve',
      properties: {
        tdx: {
          type: 'object',
          additionalProperties: false,
          required: ['shim'],
          properties: { shim: ref48('the agent shim digest (replayed from the event log)') },
        },
        'sev-snp': {
          type: 'object',
          additionalProperties: false,
          required: ['measurement'],
          properties: { measurement: ref48('launch measurement of the image with the agent') },
        },
        nitro: {
          type: 'object',
          additionalProperties: false,
          required: ['pcr0'],
          properties: { pcr0: ref48('PCR0 of the enclave image with the agent') },
        },
      },
    },
  },
} as const;
