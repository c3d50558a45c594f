import { MemoryRefusalBudget } from "../../functions/adapters/memory/memoryRefusals";
import { refusalBudgetContract } from "../contract/refusalBudget.contract";

refusalBudgetContract("memory", async (clock) => new MemoryRefusalBudget(() => new Date(clock.now)));
