/** The shapes a setting can have (see settings.ts, where every setting is declared). */
export type SettingScope = "param" | "env" | "platform";

interface Base {
  env: string;
  scope: SettingScope;
  description: string;
}
export interface IntSetting extends Base {
  type: "int";
  default: number;
  min: number;
  max: number;
}
export interface NumberSetting extends Base {
  type: "number";
  default: number;
  min: number;
  max: number;
}
export interface BoolSetting extends Base {
  type: "bool";
  default: boolean;
}
export interface EnumSetting extends Base {
  type: "enum";
  options: readonly string[];
  default: string | null;
}
export interface StringSetting extends Base {
  type: "string";
  default: string | null;
  pattern?: RegExp;
}
export type Setting = IntSetting | NumberSetting | BoolSetting | EnumSetting | StringSetting;

/** An integer param (prompted at deploy, set in `.env` files). */
export const int = (env: string, def: number, min: number, max: number, description: string): IntSetting => ({
  env,
  type: "int",
  default: def,
  min,
  max,
  description,
  scope: "param",
});

/** A boolean param, false unless set. */
export const bool = (env: string, description: string): BoolSetting => ({
  env,
  type: "bool",
  default: false,
  description,
  scope: "param",
});
