// Renders per-host file bundles from templates/ (work in progress; see renderStack below).
import type { Model } from "../model/model.ts";
import type { Plan } from "../plan/plan.ts";
import type { HostBundle } from "./bundle.ts";

export interface RenderOptions {
  /** Prefix for every absolute path, in file locations and inside configs: "" on a real host, a per-host directory in the lab. */
  root?: string;
}

export function renderStack(_model: Model, _plan: Plan, _options: RenderOptions = {}): HostBundle[] {
  throw new Error("not yet implemented");
}
