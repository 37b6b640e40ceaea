/**
 * TD report body (`sgx_report2_body_t`, 584 bytes; `sgx_report2_body_v1_5_t`, 648 bytes).
 *
 * @internal
 * @module
 */
import type { ByteReader, ByteWriter } from '../../../../common/bytes.js';
import { BODY_TYPE_TD15 } from './types.js';
import type { TdReportBody, TdxBodyType } from './types.js';

/** Reads a TD report body of the given type. */
export function readTdReportBody(r: ByteReader, type: TdxBodyType): TdReportBody {
  const body: TdReportBody = {
    teeTcbSvn: r.bytesOf(16, 'tee_tcb_svn'),
    mrSeam: r.bytesOf(48, 'mr_seam'),
    mrSignerSeam: r.bytesOf(48, 'mr_signer_seam'),
    seamAttributes: r.bytesOf(8, 'seam_attributes'),
    tdAttributes: r.bytesOf(8, 'td_attributes'),
    xfam: r.bytesOf(8, 'xfam'),
    mrTd: r.bytesOf(48, 'mr_td'),
    mrConfigId: r.bytesOf(48, 'mr_config_id'),
    mrOwner: r.bytesOf(48, 'mr_owner'),
    mrOwnerConfig: r.bytesOf(48, 'mr_owner_config'),
    rtmr: [
      r.bytesOf(48, 'rt_mr[0]'),
      r.bytesOf(48, 'rt_mr[1]'),
      r.bytesOf(48, 'rt_mr[2]'),
      r.bytesOf(48, 'rt_mr[3]'),
    ],
    reportData: r.bytesOf(64, 'report_data'),
  };
  if (type === BODY_TYPE_TD15) {
    body.teeTcbSvn2 = r.bytesOf(16, 'tee_tcb_svn2');
    body.mrServiceTd = r.bytesOf(48, 'mr_servicetd');
  }
  return body;
}

function requireTd15Fields(b: TdReportBody): { svn2: Uint8Array; serviceTd: Uint8Array } {
  if (b.teeTcbSvn2 === undefined || b.mrServiceTd === undefined) {
    throw new TypeError('a TD report 1.5 body needs teeTcbSvn2 and mrServiceTd');
  }
  return { svn2: b.teeTcbSvn2, serviceTd: b.mrServiceTd };
}

/** Writes a TD report body of the given type; throws TypeError on inconsistent fields. */
export function writeTdReportBody(w: ByteWriter, b: TdReportBody, type: TdxBodyType): void {
  w.raw(b.teeTcbSvn, 16, 'tee_tcb_svn');
  w.raw(b.mrSeam, 48, 'mr_seam');
  w.raw(b.mrSignerSeam, 48, 'mr_signer_seam');
  w.raw(b.seamAttributes, 8, 'seam_attributes');
  w.raw(b.tdAttributes, 8, 'td_attributes');
  w.raw(b.xfam, 8, 'xfam');
  w.raw(b.mrTd, 48, 'mr_td');
  w.raw(b.mrConfigId, 48, 'mr_config_id');
  w.raw(b.mrOwner, 48, 'mr_owner');
  w.raw(b.mrOwnerConfig, 48, 'mr_owner_config');
  b.rtmr.forEach((m, i) => w.raw(m, 48, `rt_mr[${i}]`));
  w.raw(b.reportData, 64, 'report_data');
  if (type === BODY_TYPE_TD15) {
    const { svn2, serviceTd } = requireTd15Fields(b);
    w.raw(svn2, 16, 'tee_tcb_svn2');
    w.raw(serviceTd, 48, 'mr_servicetd');
  } else if (b.teeTcbSvn2 !== undefined || b.mrServiceTd !== undefined) {
    throw new TypeError('a TD report 1.0 body has no teeTcbSvn2 or mrServiceTd');
  }
}
