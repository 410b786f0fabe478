-- A session's refresh window. A session with an idle timeout of its own (field `i`, a framework
-- cookie's maxAge) follows a cookie the browser may renew on every request, so it must never end
-- before that cookie: its refreshes are skipped for at most a tenth of it (and never for longer
-- than touchAfter), and each refresh reaches that much past it. Other sessions use the store's
-- idle timeout and touchAfter as they are. Returns the TTL a refresh sets (before the absolute
-- cap) and the window within which a read skips the refresh.
local function window(idle, touchAfter, own)
  if not own then return idle, touchAfter end
  local skip = math.min(touchAfter, math.floor(own / 10))
  return own + skip, skip
end
