// The caller's time zone, as their browser knows it, so "afternoon" means their afternoon and
// a phone call's times are on their clock. Without JavaScript the server takes the zone from
// the phone number, or asks.
(function () {
  if (!window.Intl || !Intl.DateTimeFormat) return;
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  // A form that sends it along (the call-back form, a call's details page).
  var field = document.getElementById("id_browser_timezone");
  if (field) field.value = zone;
  // A call's times page, on the clinic's clock so far: shown again on the caller's, once.
  var times = document.querySelector("form[data-ask-browser]");
  if (times && zone && zone !== times.getAttribute("data-location-zone")) {
    var address = new URL(window.location.href);
    if (!address.searchParams.has("zone")) {
      address.searchParams.set("zone", zone);
      window.location.replace(address.toString());
    }
  }
})();
