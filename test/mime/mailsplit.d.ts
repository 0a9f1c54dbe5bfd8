// Minimal declarations for mailsplit, used only as a cross-check oracle in tests.
declare module 'mailsplit' {
  import { Transform } from 'node:stream';
  export interface MimeNode {
    type: 'node';
    multipart: string | false;
    messageNode?: boolean;
    contentType: string | false;
    getHeaders(): Buffer;
  }
  export interface DataChunk {
    type: 'data' | 'body';
    node: MimeNode;
    value: Buffer;
  }
  export class Splitter extends Transform {
    constructor(options?: { defaultInlineEmbedded?: boolean; ignoreEmbedded?: boolean; maxHeadSize?: number; maxChildNodes?: number });
  }
}
