-- Adds a handle to a user's index (see commands.ts and lib/index-entry). KEYS: index. ARGV:
-- handle, absoluteAt ('' = now + absoluteTtlMs), absoluteTtlMs. Returns the score used.
--!include clock
--!include index-entry
return add_entry(KEYS[1], ARGV[1], ARGV[2], ARGV[3], clock())
