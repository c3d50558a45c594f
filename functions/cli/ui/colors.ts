import { createColors } from "picocolors";

export type Colors = ReturnType<typeof createColors>;

let colorFlag = true;

/** `--no-color` turns colours off everywhere; NO_COLOR and non-TTY streams do too. */
export function setColorFlag(enabled: boolean): void {
  colorFlag = enabled;
}

/** Colours for one stream: only on a terminal, never with NO_COLOR (https://no-color.org). */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const env = process.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const enabled = colorFlag && !env.NO_COLOR && (forced || (stream.isTTY === true && env.TERM !== "dumb"));
  return createColors(enabled);
}
