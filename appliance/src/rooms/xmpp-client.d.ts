// Types for the part of @xmpp/client 0.14 (untyped JavaScript) that rooms/xmpp.ts and the tests use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<XmlElement | string>;
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getAttr(name: string): string | undefined;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildElements(): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    toString(): string;
  }

  type XmlChild = XmlElement | string | null | undefined | false;
  export function xml(
    name: string,
    attrs?: Record<string, string | number | undefined> | null,
    ...children: Array<XmlChild | XmlChild[]>
  ): XmlElement;

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
  }
  export function jid(value: string): JID;
  export function jid(local: string, domain: string, resource?: string): JID;

  export type Mechanism = string;
  export type Authenticate = (
    credentials: { username: string; password: string },
    mechanism: Mechanism,
  ) => Promise<void>;

  export interface ClientOptions {
    service: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
    /** Called with the mechanisms both sides support; must call authenticate. */
    credentials?: (authenticate: Authenticate, mechanisms: Mechanism[]) => Promise<void>;
    timeout?: number;
  }

  export interface Client extends EventEmitter {
    status: string;
    jid: JID | null;
    timeout: number;
    options: ClientOptions;
    start(): Promise<JID>;
    stop(): Promise<void>;
    /** Closes the stream and the socket without going offline: the reconnect module takes over. */
    disconnect(): Promise<void>;
    send(element: XmlElement): Promise<void>;
    isSecure(): boolean;
    iqCaller: {
      request(stanza: XmlElement, timeout?: number): Promise<XmlElement>;
    };
    /** Internal: the socket's data handler, and the stream parser (null once the stream closed). */
    _onData(data: Buffer): void;
    parser: unknown;
    /** Internal: the connection's socket (for xmpp://, a TCP socket), null while not connected. */
    socket: import('node:net').Socket | null;
    reconnect: EventEmitter & { delay: number; start(): void; stop(): void };
  }

  export function client(options: ClientOptions): Client;
}
