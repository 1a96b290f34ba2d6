// Draws the chart of a page from the figure JSON the page carries (no inline code needed).
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("kr-figure-data");
  var target = document.getElementById("kr-figure");
  if (!data || !target || !window.Plotly) { return; }
  var figure = JSON.parse(data.textContent);
  window.Plotly.newPlot(target, figure.data, figure.layout, {displaylogo: false, responsive: true});
});
