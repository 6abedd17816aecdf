/// The API's OpenAPI 3.1 document, served at GET /v1/openapi.json. docs/api/openapi.json holds
/// the same text; DaemonTests checks that the two are equal and that every route is described.
enum OpenAPIDocument {
  static let text = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "boxwalk daemon API",
        "version": "v1",
        "description": "boxwalk's lab sessions over HTTP/1.1 on a Unix socket (`boxwalk daemon`; docs/daemon.md). Each connection's uid is read with SO_PEERCRED: a session belongs to the uid that made it, and root may use every session. Every error is {\"error\": {\"message\", \"field\", \"fix\"}}. With `boxwalk daemon --listen 127.0.0.1:PORT` the same API is also served on that loopback TCP port, where TCP carries no peer credentials: every request there must send the token the daemon printed at start (`Authorization: Bearer TOKEN`, the bearerToken scheme), else 401, and a request with it acts as the daemon's own uid."
      },
      "paths": {
        "/": {
          "get": {
            "operationId": "liveIndex",
            "summary": "The live view's first page, for a browser: the sessions the connecting uid may see (root: all), each linked to its view. HTML, no script. Like every route it refuses requests from other sites' pages and Host names that are not loopback names (docs/security.md).",
            "responses": {
              "200": {
                "description": "The page.",
                "content": {
                  "text/html": {
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/view": {
          "get": {
            "operationId": "liveView",
            "summary": "The live view of a session, for a browser: the export page's style, the pictures of the lab now as inline SVG, and each step run since the page opened, added without a reload. Self-contained: its one script follows GET /v1/sessions/{id}/events (the `view` events) and reads GET /v1/sessions/{id}/pictures after a reconnection; its Content-Security-Policy lets it reach its own origin only.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "The page.",
                "content": {
                  "text/html": {
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/pictures": {
          "get": {
            "operationId": "livePictures",
            "summary": "The pictures of the session's lab now, as the live view shows them (inline SVG in figures, the last step's changes marked), and the prompt.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "The pictures.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/LiveState"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/version": {
          "get": {
            "operationId": "version",
            "summary": "The daemon's version and API version.",
            "responses": {
              "200": {
                "description": "Version.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Version"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/ping": {
          "get": {
            "operationId": "ping",
            "summary": "Answers {\"ok\": true} while the daemon serves.",
            "responses": {
              "200": {
                "description": "Alive.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "ok": {
                          "type": "boolean"
                        }
                      },
                      "required": [
                        "ok"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/openapi.json": {
          "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {
              "200": {
                "description": "The OpenAPI document.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/backends/{backend}": {
          "get": {
            "operationId": "backend",
            "summary": "What a backend offers on the daemon's machine: the features transcripts `#require`, and why it cannot run, if it cannot.",
            "parameters": [
              {
                "name": "backend",
                "in": "path",
                "required": true,
                "schema": {
                  "$ref": "#/components/schemas/Backend"
                }
              }
            ],
            "responses": {
              "200": {
                "description": "The backend.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BackendInfo"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions": {
          "post": {
            "operationId": "createSession",
            "summary": "Start a lab session of its own (its own kernel and boxes) on a backend.",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "properties": {
                      "backend": {
                        "$ref": "#/components/schemas/Backend"
                      },
                      "pictures": {
                        "type": "object",
                        "description": "How `draw` draws in this session: the client's terminal decides (absent: box drawing, 80 columns, no highlights, as transcripts use).",
                        "properties": {
                          "charset": {
                            "type": "string",
                            "enum": [
                              "unicode",
                              "ascii"
                            ]
                          },
                          "width": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000
                          },
                          "ansi": {
                            "type": "boolean"
                          }
                        },
                        "required": [
                          "charset",
                          "width",
                          "ansi"
                        ],
                        "additionalProperties": false
                      }
                    },
                    "required": [
                      "backend"
                    ],
                    "additionalProperties": false
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "The new session.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/SessionInfo"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          },
          "get": {
            "operationId": "listSessions",
            "summary": "The caller's sessions (root: every session), oldest first.",
            "responses": {
              "200": {
                "description": "Sessions.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "sessions": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/SessionInfo"
                          }
                        }
                      },
                      "required": [
                        "sessions"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}": {
          "delete": {
            "operationId": "deleteSession",
            "summary": "Tear a session down: every box and host object it made.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "Closed.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "id": {
                          "type": "string"
                        },
                        "closed": {
                          "type": "boolean"
                        }
                      },
                      "required": [
                        "id",
                        "closed"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/commands": {
          "post": {
            "operationId": "runCommand",
            "summary": "Run one command line in the session, exactly once, after any line already running in it.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "properties": {
                      "line": {
                        "type": "string",
                        "description": "A REPL command line, e.g. `box new web`."
                      }
                    },
                    "required": [
                      "line"
                    ],
                    "additionalProperties": false
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "What the line printed, and its step.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CommandReply"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/state": {
          "get": {
            "operationId": "sessionState",
            "summary": "The session's state tree, read now: the JSON `state --json` prints.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "The state.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "backend": {
                          "type": "string"
                        },
                        "state": {
                          "type": "object"
                        }
                      },
                      "required": [
                        "backend",
                        "state"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/tree": {
          "get": {
            "operationId": "sessionTree",
            "summary": "The state tree of the session's last step (not read again), in a lossless form for clients that check lessons: a list is an array whose first element is \"L\", a volatile value the array [\"V\", value], everything else plain JSON.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "The tree.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "tree": {
                          "type": "object"
                        }
                      },
                      "required": [
                        "tree"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/completions": {
          "post": {
            "operationId": "completions",
            "summary": "The words that may complete `word` typed after `line` (the REPL's Tab key).",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "properties": {
                      "line": {
                        "type": "string"
                      },
                      "word": {
                        "type": "string"
                      }
                    },
                    "required": [
                      "line",
                      "word"
                    ],
                    "additionalProperties": false
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "The candidates.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "completions": {
                          "type": "array",
                          "items": {
                            "type": "string"
                          }
                        }
                      },
                      "required": [
                        "completions"
                      ]
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/sessions/{id}/events": {
          "get": {
            "operationId": "followSession",
            "summary": "Server-sent events: each step of the session as it runs (event `step`, data: the CommandReply of the line, one line of JSON), whoever sent it; a comment line first; while anyone follows, each step is followed by event `view` (data: a LiveStep, the step drawn for the live view), and event `closed` when the session is deleted. The stream ends when the session closes or the daemon stops.",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A session id from POST /v1/sessions."
              }
            ],
            "responses": {
              "200": {
                "description": "The event stream.",
                "content": {
                  "text/event-stream": {
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "default": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        }
      },
      "components": {
        "schemas": {
          "Backend": {
            "type": "string",
            "enum": [
              "sim",
              "real",
              "rootless"
            ]
          },
          "Version": {
            "type": "object",
            "properties": {
              "version": {
                "type": "string"
              },
              "api": {
                "type": "string"
              }
            },
            "required": [
              "version",
              "api"
            ]
          },
          "BackendInfo": {
            "type": "object",
            "properties": {
              "backend": {
                "$ref": "#/components/schemas/Backend"
              },
              "features": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "unavailable": {
                "type": "string",
                "description": "Present when the backend cannot run on the daemon's machine: the reason."
              }
            },
            "required": [
              "backend",
              "features"
            ]
          },
          "SessionInfo": {
            "type": "object",
            "properties": {
              "id": {
                "type": "string"
              },
              "backend": {
                "$ref": "#/components/schemas/Backend"
              },
              "owner": {
                "type": "integer",
                "description": "The uid that made the session: the connecting process's uid on the Unix socket, the daemon's own uid over the TCP listener."
              },
              "prompt": {
                "type": "string",
                "description": "The prompt the REPL would show now, e.g. `boxwalk[web]> `."
              }
            },
            "required": [
              "id",
              "backend",
              "owner",
              "prompt"
            ]
          },
          "CommandReply": {
            "type": "object",
            "properties": {
              "ok": {
                "type": "boolean",
                "description": "False when the line was refused or the kernel failed."
              },
              "text": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "description": "The lines the REPL prints for the line, byte for byte."
              },
              "prompt": {
                "type": "string",
                "description": "The prompt after the line."
              },
              "quit": {
                "type": "boolean",
                "description": "True once the session ran `quit` (the REPL stops reading)."
              },
              "failures": {
                "type": "integer",
                "description": "How many of the session's commands failed so far (a piped REPL's exit status)."
              },
              "step": {
                "type": "object",
                "description": "The object `--json` prints for the line: prompt, input, ok, error, errno (the failed system call's, by name: ENOENT), step (its kind), calls (the system calls), shell (the equivalent shell line), changes (state paths with old and new values), output."
              }
            },
            "required": [
              "ok",
              "text",
              "prompt",
              "quit",
              "failures",
              "step"
            ]
          },
          "Error": {
            "type": "object",
            "properties": {
              "error": {
                "type": "object",
                "properties": {
                  "message": {
                    "type": "string"
                  },
                  "field": {
                    "type": "string",
                    "description": "The part of the request that was wrong: a JSON member, `body`, `id`, `backend` or `path`."
                  },
                  "fix": {
                    "type": "string"
                  }
                },
                "required": [
                  "message",
                  "fix"
                ]
              }
            },
            "required": [
              "error"
            ]
          },
          "LiveState": {
            "type": "object",
            "properties": {
              "state": {
                "type": "string",
                "description": "HTML: one figure (class diagram, data-kind) with an inline SVG per picture of the lab now."
              },
              "prompt": {
                "type": "string",
                "description": "The session's prompt now."
              }
            },
            "required": [
              "state",
              "prompt"
            ]
          },
          "LiveStep": {
            "type": "object",
            "properties": {
              "step": {
                "type": "string",
                "description": "HTML: the step as boxwalk export --html draws it (a section of class step: its prompt and command, what it printed, the pictures of what it changed)."
              },
              "state": {
                "type": "string",
                "description": "HTML: the pictures of the lab after the step, as in LiveState."
              },
              "prompt": {
                "type": "string",
                "description": "The prompt after the step."
              }
            },
            "required": [
              "step",
              "state",
              "prompt"
            ]
          }
        },
        "responses": {
          "Error": {
            "description": "400 a bad request (field named), 401 a missing or wrong token on the TCP listener (field Authorization), 403 another uid's session or a real session for a non-root uid, 404 no such session or route, 409 a session that cannot start or was closed, 413 a body over 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "securitySchemes": {
          "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "Only on the loopback TCP listener of `boxwalk daemon --listen`: the 64 hex digits the daemon printed at start. A request with it acts as the daemon's own uid (TCP has no SO_PEERCRED); a missing or wrong token is 401 with field `Authorization`. On the Unix socket no token is sent: the kernel's peer credentials say who is asking."
          }
        }
      },
      "security": [
        {},
        {
          "bearerToken": []
        }
      ]
    }
    """#
}
