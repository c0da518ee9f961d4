// Types for the parts of the `smpp` package (0.5.1, untyped JavaScript) that Samverka uses,
// written from node_modules/smpp/lib/{smpp,pdu,defs}.js. Only invites/sms.ts imports the package
// in application code; tests import it to run a real SMSC.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    /** A PDU: header fields plus the command's parameters and TLVs as own properties. */
    class PDU {
      constructor(command: string, options?: Record<string, unknown>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      response(options?: Record<string, unknown>): PDU;
      /** Reads a PDU's 4-octet command_length from the stream: false until 4 octets are there. */
      static commandLength(stream: NodeJS.ReadableStream): number | false;
      static maxLength: number;
    }

    /** One SMPP connection; emits 'connect', 'close', 'error', 'pdu' and one event per command name. */
    class Session extends EventEmitter {
      socket: Socket;
      /** Returns false (and sends nothing) when the socket is no longer writable. */
      send(pdu: PDU, responseCallback?: (response: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      pause(): void;
      resume(): void;
    }

    interface Server extends NetServer {
      sessions: Session[];
    }

    interface ConnectOptions {
      host: string;
      port: number;
      tls?: boolean;
      /** Passed on to tls.connect with the rest of the options. */
      ca?: string[];
    }

    function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
    function connect(options: ConnectOptions, listener?: () => void): Session;

    /** Command status names to their values, e.g. ESME_RTHROTTLED: 0x58. */
    const errors: Record<string, number>;
  }

  export = smpp;
}
