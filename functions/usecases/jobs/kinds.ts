import type { JobType } from "../../domain/jobs";
import { rescheduleJob } from "./reschedule";
import { rewrapJob } from "./rewrap";
import { rotationJob } from "./rotation";
import { scopeRotationJob } from "./scopeRotation";
import type { JobSpec } from "./spec";

/** Every job type the engine can run, by the type stored in the job record. */
export const JOB_SPECS: Readonly<Record<JobType, JobSpec>> = {
  rotation: rotationJob as JobSpec,
  rewrap: rewrapJob,
  reschedule: rescheduleJob as JobSpec,
  scope_rotation: scopeRotationJob as JobSpec,
};
