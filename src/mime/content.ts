// Derives a part's MIME description (RFC 2045 §5-8, RFC 2183, RFC 3066,
// RFC 2557) from its header fields, for BODYSTRUCTURE.

import { parseParameterizedValue } from './parameters.js';
import { binaryToText } from './text.js';

export interface Content {
  type: string;
  subtype: string;
  params: [string, string][];
  boundary: Buffer | null; // exact bytes of the multipart boundary
  id: string | null;
  description: string | null;
  encoding: string;
  md5: string | null;
  disposition: { type: string; params: [string, string][] } | null;
  language: string[] | null;
  location: string | null;
}

/** Header lookup returning the first occurrence as an unfolded binary string, or null. */
export type BinaryLookup = (name: string) => string | null;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function textParams(params: [string, string][]): [string, string][] {
  return params.map(([name, value]) => [binaryToText(name), binaryToText(value)]);
}

function textOrNull(value: string | null): string | null {
  return value === null ? null : binaryToText(value);
}

export function readContent(header: BinaryLookup, defaultType: 'text/plain' | 'message/rfc822'): Content {
  let type: string;
  let subtype: string;
  let params: [string, string][];
  let boundary: Buffer | null = null;

  const contentType = header('content-type');
  const parsed = contentType === null ? null : parseParameterizedValue(contentType);
  const slash = parsed ? parsed.value.indexOf('/') : -1;
  const declaredType = parsed && slash > 0 ? parsed.value.slice(0, slash) : '';
  const declaredSubtype = parsed && slash > 0 ? parsed.value.slice(slash + 1) : '';
  if (parsed && TOKEN.test(declaredType) && TOKEN.test(declaredSubtype)) {
    type = declaredType;
    subtype = declaredSubtype;
    params = parsed.params;
    const boundaryParameter = params.find(([name]) => name === 'boundary');
    if (boundaryParameter && boundaryParameter[1].length > 0) boundary = Buffer.from(boundaryParameter[1], 'latin1');
  } else if (parsed === null && defaultType === 'message/rfc822') {
    // RFC 2046 §5.1.5: in multipart/digest the default is message/rfc822.
    type = 'message';
    subtype = 'rfc822';
    params = [];
  } else {
    // RFC 2045 §5.2: missing or syntactically invalid Content-Type means text/plain; charset=us-ascii.
    type = 'text';
    subtype = 'plain';
    params = [['charset', 'us-ascii']];
  }

  const encodingValue = header('content-transfer-encoding');
  const encoding = encodingValue === null ? '' : encodingValue.replace(/\([^()]*\)/g, '').trim().toLowerCase();

  const dispositionValue = header('content-disposition');
  let disposition: Content['disposition'] = null;
  if (dispositionValue !== null) {
    const parsedDisposition = parseParameterizedValue(dispositionValue);
    if (parsedDisposition.value) {
      disposition = { type: binaryToText(parsedDisposition.value), params: textParams(parsedDisposition.params) };
    }
  }

  const languageValue = header('content-language');
  const languages = languageValue === null ? [] : languageValue.replace(/\([^()]*\)/g, ' ').split(/[\s,]+/).filter(Boolean);

  return {
    type,
    subtype,
    params: textParams(params),
    boundary,
    id: textOrNull(header('content-id')),
    description: textOrNull(header('content-description')),
    encoding: encoding ? binaryToText(encoding) : '7bit',
    md5: textOrNull(header('content-md5')),
    disposition,
    language: languages.length > 0 ? languages.map(binaryToText) : null,
    location: textOrNull(header('content-location')),
  };
}
