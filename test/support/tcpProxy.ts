import net from "node:net";

/** A TCP proxy the test owns, so it can cut a client off from Firestore mid-operation. */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;
  private dropAnswers = false;
  port = 0;

  constructor(private readonly target: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    const [host, port] = this.target.split(":");
    this.server = net.createServer((client) => {
      if (this.cutOff) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(port), host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream);
      upstream.on("data", (chunk: Buffer) => {
        // The request went through and was served; its answer is lost on the way back.
        if (this.dropAnswers) client.destroy();
        else client.write(chunk);
      });
      upstream.on("end", () => client.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.host;
  }

  /** Drops every open connection and refuses new ones. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
    this.dropAnswers = false;
  }

  /** Lets requests through but cuts each connection when the answer comes back, as a lost response would. */
  loseAnswers(): void {
    this.dropAnswers = true;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
