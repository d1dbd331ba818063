/**
 * The `todo` toolset: an in-memory task list the model keeps while it works (modelled on
 * cagent's todo tools). The list lives as long as the toolset and changes nothing outside
 * it, so every tool is annotated read-only, as cagent does: none needs the user's approval.
 * @module
 */
import {
  ArgumentError,
  type BuiltinTool,
  errorResult,
  requireString,
  textResult,
} from "./common.ts";

/** The statuses a todo can have. */
export const TODO_STATUSES = ["pending", "in-progress", "completed"] as const;

/** One of {@link TODO_STATUSES}. */
export type TodoStatus = typeof TODO_STATUSES[number];

/** One item of the list. */
export interface Todo {
  id: string;
  description: string;
  status: TodoStatus;
}

/** Most todos one list holds, so a runaway model cannot grow it without bound. */
export const MAX_TODOS = 1000;

const READ_ONLY = { readOnlyHint: true, destructiveHint: false };

/** The tools of a `todo` toolset, sharing one list: create_todo(s), update_todo, list_todos. */
export function todoTools(): BuiltinTool[] {
  const todos = new Map<string, Todo>();
  let next = 1;

  function add(descriptions: string[]): Todo[] {
    if (todos.size + descriptions.length > MAX_TODOS) {
      throw new ArgumentError(
        `the todo list holds at most ${MAX_TODOS} items; complete or reuse existing ones`,
      );
    }
    return descriptions.map((description) => {
      const todo: Todo = { id: `todo_${next++}`, description, status: "pending" };
      todos.set(todo.id, todo);
      return todo;
    });
  }

  return [
    {
      info: {
        name: "create_todo",
        description: "Create a new todo item with a description.",
        inputSchema: {
          type: "object",
          properties: {
            description: { type: "string", description: "Description of the todo item" },
          },
          required: ["description"],
        },
        annotations: { title: "Create TODO", ...READ_ONLY },
      },
      run(args) {
        const [todo] = add([nonEmpty(requireString(args, "description"), "description")]);
        return textResult(`Created todo ${todo.id}: ${todo.description}`, { todo });
      },
    },
    {
      info: {
        name: "create_todos",
        description: "Create several new todo items at once, one per description.",
        inputSchema: {
          type: "object",
          properties: {
            descriptions: {
              type: "array",
              items: { type: "string" },
              minItems: 1,
              description: "Descriptions of the todo items, in order",
            },
          },
          required: ["descriptions"],
        },
        annotations: { title: "Create TODOs", ...READ_ONLY },
      },
      run(args) {
        const created = add(descriptionsOf(args));
        const lines = created.map((todo) => `- ${todo.id}: ${todo.description}`);
        return textResult(`Created ${created.length} todos:\n${lines.join("\n")}`, {
          todos: created,
        });
      },
    },
    {
      info: {
        name: "update_todo",
        description: "Update the status of a todo item.",
        inputSchema: {
          type: "object",
          properties: {
            id: { type: "string", description: "ID of the todo item, e.g. todo_1" },
            status: {
              type: "string",
              enum: [...TODO_STATUSES],
              description: "New status: pending, in-progress or completed",
            },
          },
          required: ["id", "status"],
        },
        annotations: { title: "Update TODO", ...READ_ONLY },
      },
      run(args) {
        const id = requireString(args, "id");
        const status = requireString(args, "status");
        if (!(TODO_STATUSES as readonly string[]).includes(status)) {
          return errorResult(
            `unknown status "${status}"; use one of: ${TODO_STATUSES.join(", ")}`,
          );
        }
        const todo = todos.get(id);
        if (!todo) {
          const known = [...todos.keys()];
          return errorResult(
            `todo "${id}" not found; ` +
              (known.length ? `existing ids: ${known.join(", ")}` : "the list is empty"),
          );
        }
        todo.status = status as TodoStatus;
        return textResult(`Updated todo ${id} status to: ${status}`, { todo: { ...todo } });
      },
    },
    {
      info: {
        name: "list_todos",
        description: "List all current todos with their status.",
        inputSchema: { type: "object", properties: {} },
        annotations: { title: "List TODOs", ...READ_ONLY },
      },
      run() {
        const all = [...todos.values()].map((todo) => ({ ...todo }));
        if (all.length === 0) return textResult("No todos yet.", { todos: [] });
        const lines = all.map((todo) => `- [${todo.id}] ${todo.description} (${todo.status})`);
        return textResult(`Current todos:\n${lines.join("\n")}`, { todos: all });
      },
    },
  ];
}

/** `descriptions: string[]`, or cagent's `todos: [{ description }]`. */
function descriptionsOf(args: Record<string, unknown>): string[] {
  let raw: unknown = args.descriptions;
  if (raw === undefined && Array.isArray(args.todos)) {
    raw = args.todos.map((item) =>
      typeof item === "object" && item !== null
        ? (item as Record<string, unknown>).description
        : item
    );
  }
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((d) => typeof d === "string")) {
    throw new ArgumentError(`argument "descriptions" must be a non-empty array of strings`);
  }
  return raw.map((description) => nonEmpty(description, "descriptions"));
}

function nonEmpty(value: string, name: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ArgumentError(`argument "${name}" must not be empty`);
  return trimmed;
}
