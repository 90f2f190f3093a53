// Reads an iCalendar file on stdin with ical.js (Mozilla's parser: Thunderbird and many web
// calendars) and prints {uid: start as a UTC ISO instant} as JSON. ical.min.js is ical.js 2.2.1
// from npm, unchanged (MPL-2.0, LICENSE beside it), so the suite needs no network.
import ICAL from './ical.min.js';

let data = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) data += chunk;
const calendar = new ICAL.Component(ICAL.parse(data));
for (const zone of calendar.getAllSubcomponents('vtimezone')) {
  ICAL.TimezoneService.register(new ICAL.Timezone(zone));
}
const starts = {};
for (const component of calendar.getAllSubcomponents('vevent')) {
  const event = new ICAL.Event(component);
  starts[event.uid] = event.startDate.toJSDate().toISOString();
}
process.stdout.write(JSON.stringify(starts));
