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
