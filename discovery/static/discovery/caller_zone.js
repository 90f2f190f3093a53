// The caller's time zone, as their browser knows it, so "afternoon" means their afternoon.
// Without JavaScript the server takes the zone from the phone number, or asks.
(function () {
  var field = document.getElementById("id_browser_timezone");
  if (!field || !window.Intl || !Intl.DateTimeFormat) return;
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    field.value = "";
  }
})();
