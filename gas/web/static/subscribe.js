// Subscribe: Stripe.js turns the card into a token in the browser; only the token is posted.
(function () {
  "use strict";
  var form = document.getElementById("subscribe-form");
  if (!form) { return; }
  var message = document.getElementById("card-message");
  var submit = document.getElementById("subscribe-submit");

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
    if (text) { submit.disabled = false; }
  }

  if (typeof window.Stripe !== "function") {
    show("The card form could not be loaded. Please check your connection and reload the page.");
    submit.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  if (card.on) {
    card.on("change", function (event) {
      show(event && event.error ? event.error.message : "");
    });
  }

  form.addEventListener("submit", function (event) {
    var field = form.elements[form.getAttribute("data-token-field")];
    if (field.value) { return; }  // the token is in: let the form go
    event.preventDefault();
    show("");
    submit.disabled = true;
    stripe.createToken(card).then(function (result) {
      if (result.error) {
        show(result.error.message || "Your card could not be used. Please check it and try again.");
        return;
      }
      field.value = result.token.id;
      form.submit();
    }, function () {
      show("Stripe could not be reached. Please try again.");
    });
  });
}());
