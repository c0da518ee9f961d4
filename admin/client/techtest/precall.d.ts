// Types for Jitsi's pre-call test (@jitsi/precall-test ships plain, untyped ES sources).
declare module '@jitsi/precall-test' {
  export interface PreCallResults {
    mediaConnectivity: boolean;
    /** kbit/s through the relay (kilo = 1024). */
    throughput: number | null;
    /** Fraction of bytes lost, 0..1. */
    fractionalLoss: number | null;
    /** Median round trip, ms. */
    rtt: number | null;
    /** Standard deviation of the round trip, ms. */
    jitter: number | null;
    timestamp: number;
  }
  export default class PreCallTest {
    start(iceServers: RTCIceServer[]): Promise<PreCallResults>;
    stop(): void;
    crashDisconnect(): void;
  }
}
