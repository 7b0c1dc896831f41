// The residents' pages (gongzhi.resident_web): a form sends once (a second tap on its button while
// the first is on its way does nothing), and the report page's optional point on the map. Served from
// this server, so the Content-Security-Policy (script-src 'self') lets it run; without JavaScript
// the map stays hidden and the form works without a point. Leaflet is the vendored copy under
// static/leaflet. The page gives the grid's centre, boundary (GeoJSON, WGS-84) and basemap in the
// map element's data-config; a tap puts the point into the hidden lat/lon fields.
(() => {
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) { button.disabled = true; }
    });
  }
  // Back to this page from the browser's history: the buttons work again.
  window.addEventListener("pageshow", () => {
    for (const button of document.querySelectorAll("form[data-once] button[type=submit]")) { button.disabled = false; }
  });
})();

(() => {
  const element = document.getElementById("gz-map");
  const field = document.getElementById("gz-map-field");
  if (!element || !field || typeof L === "undefined") { return; }
  const config = JSON.parse(element.dataset.config || "{}");
  const latInput = document.getElementById("gz-lat");
  const lonInput = document.getElementById("gz-lon");
  const status = document.getElementById("gz-point-status");
  field.classList.remove("gz-js-only");
  const map = L.map(element, {zoomControl: true, attributionControl: Boolean(config.attribution)});
  if (config.tiles) {
    L.tileLayer(config.tiles, {subdomains: config.subdomains || "abc", attribution: config.attribution || "",
                               maxZoom: 19}).addTo(map);
  }
  let fitted = false;
  if (config.boundary) {
    const outline = L.geoJSON(config.boundary, {style: {color: "#b3261e", weight: 2, fillOpacity: 0.08}}).addTo(map);
    map.fitBounds(outline.getBounds(), {padding: [8, 8]});
    fitted = true;
  }
  if (!fitted && config.lat !== null && config.lon !== null) { map.setView([config.lat, config.lon], 17); fitted = true; }
  if (!fitted) { map.setView([22.55, 113.9], 12); }
  let marker = null;
  const show = (lat, lon) => {
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.circleMarker([lat, lon], {radius: 9, color: "#0b57d0"}).addTo(map); }
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    status.textContent = config.chosen + " " + lat.toFixed(5) + ", " + lon.toFixed(5);
  };
  if (latInput.value && lonInput.value) { show(parseFloat(latInput.value), parseFloat(lonInput.value)); }
  map.on("click", (event) => show(event.latlng.lat, event.latlng.lng));
})();
