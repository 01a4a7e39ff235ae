// The posting form's photo uploader (issue 17). Progressive enhancement: without this file the
// plain file input sends the photos with the form, and the server keeps them through errors.
//
// With it, each chosen photo is made smaller in the browser (long edge 2048 px, turned upright),
// sent by itself at once to the staged-photo endpoint with a progress bar, and listed with
// remove / move up / move down buttons. The list carries one hidden `staged_photo` input per
// photo, in display order: that is what the form posts. Every text comes from data attributes the
// template fills with _(), so nothing here is in one language; "{name}" in a text is the file name.
(function () {
  "use strict";

  var LONG_EDGE = 2048;
  var JPEG_QUALITY = 0.85;
  var SMALL_ENOUGH = 1024 * 1024;  // a photo this small and no larger than LONG_EDGE goes as it is
  var counter = 0;

  function say(root, key, name) {
    return (root.getAttribute("data-text-" + key) || "").split("{name}").join(name || "");
  }

  function element(tag, className, textContent) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (textContent) { node.textContent = textContent; }
    return node;
  }

  // The photo as it should travel: a JPEG at most LONG_EDGE px long, turned upright. A photo the
  // browser cannot decode (HEIC in Chromium) travels as it is; the server reads it and previews it.
  function shrink(file) {
    if (!window.createImageBitmap || !window.HTMLCanvasElement) { return Promise.resolve(file); }
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bitmap) {
      var scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= SMALL_ENOUGH) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      var context = canvas.getContext("2d");
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          canvas.width = canvas.height = 0;  // let the pixels go now, not at the next collection
          resolve(blob && blob.size < file.size ? blob : file);
        }, "image/jpeg", JPEG_QUALITY);
      });
    }, function () { return file; });
  }

  function jpegName(name) {
    return name.replace(/\.[^.]*$/, "") + ".jpg";
  }

  function Uploader(root) {
    this.root = root;
    this.form = root.closest("form");
    this.input = root.querySelector('input[type="file"]');
    this.list = root.querySelector("[data-photo-list]");
    this.live = root.querySelector("[data-photo-live]");
    this.wait = root.querySelector("[data-photo-wait]");
    this.queue = [];
    this.busy = 0;
    this.current = null;
    this.token = (this.form.querySelector('input[name="csrf_token"]') || {}).value || "";
    this.adoptStaged();
    this.placeWaitNote();
    this.listen();
  }

  // Photos the server already holds (the form came back after an error) join the list, so they
  // can be removed and moved like new ones; the server's own markup for them gives way.
  Uploader.prototype.adoptStaged = function () {
    var self = this;
    this.form.querySelectorAll('input[name="staged_photo"]').forEach(function (hidden) {
      if (self.list.contains(hidden)) { return; }
      var holder = hidden.closest("[data-staged-id]") || hidden.closest("li") || hidden;
      var image = holder.querySelector ? holder.querySelector("img") : null;
      var label = holder.querySelector ? holder.querySelector(".photo-staged-name") : null;
      var name = (label && label.textContent.trim()) || (image && image.alt) || "";
      var item = self.addItem(name);
      self.staged(item, {id: hidden.value, thumbnail_url: image ? image.src : "", name: name});
      if (holder !== hidden && holder.parentNode) {
        var group = holder.parentNode;
        holder.remove();
        if (!group.children.length && group.matches("ol, ul")) { group.hidden = true; }
      } else {
        hidden.remove();
      }
    });
  };

  Uploader.prototype.placeWaitNote = function () {
    var actions = this.form.querySelector(".actions");
    if (actions && this.wait) { actions.parentNode.insertBefore(this.wait, actions); }
  };

  Uploader.prototype.listen = function () {
    var self = this;
    this.input.addEventListener("change", function () {
      Array.prototype.forEach.call(self.input.files || [], function (file) {
        self.queue.push({file: file, item: self.addItem(file.name)});
        self.track(1);
      });
      self.input.value = "";  // sent one by one below, never again with the form
      self.next();
    });
    this.list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) { self[button.getAttribute("data-action")](button.closest("li")); }
    });
    this.form.addEventListener("submit", function (event) {
      if (self.busy) { event.preventDefault(); self.wait.focus(); }
    });
  };

  Uploader.prototype.addItem = function (name) {
    var id = "photo-upload-" + (++counter);
    var item = element("li", "photo-upload");
    item.setAttribute("data-name", name);
    var thumb = element("div", "photo-upload-thumb");
    var body = element("div", "photo-upload-body");
    var title = element("p", "photo-upload-name", name);
    var label = element("label", "visually-hidden", say(this.root, "progress", name));
    label.htmlFor = id;
    var progress = element("progress");
    progress.id = id;
    progress.max = 100;
    progress.value = 0;
    var status = element("p", "photo-upload-status", say(this.root, "waiting", name));
    var actions = element("div", "photo-upload-actions");
    [["up", "moveUp"], ["down", "moveDown"], ["remove", "remove"]].forEach(function (pair) {
      var button = element("button", "button button--secondary button--small");
      button.type = "button";
      button.setAttribute("data-action", pair[1]);
      button.textContent = say(this.root, pair[0]);
      button.appendChild(element("span", "visually-hidden", " " + name));
      actions.appendChild(button);
    }, this);
    body.append(title, label, progress, status);
    item.append(thumb, body, actions);
    this.list.appendChild(item);
    this.list.hidden = false;
    this.refreshMoves();
    return item;
  };

  // Publishing waits while photos are still on their way, and says why.
  Uploader.prototype.track = function (change) {
    this.busy += change;
    var busy = this.busy > 0;
    this.wait.hidden = !busy;
    this.form.querySelectorAll('[type="submit"]').forEach(function (button) {
      button.disabled = busy;
      if (busy) { button.setAttribute("aria-describedby", this.wait.id); }
      else { button.removeAttribute("aria-describedby"); }
    }, this);
  };

  Uploader.prototype.announce = function (message) {
    this.live.textContent = message;
  };

  Uploader.prototype.next = function () {
    if (this.current || !this.queue.length) { return; }
    var self = this;
    var job = this.current = this.queue.shift();
    var name = job.file.name;
    this.status(job.item, say(this.root, "preparing", name));
    shrink(job.file).then(function (blob) {
      if (job.cancelled || !job.item.isConnected) { self.finish(job); return; }
      var data = new FormData();
      data.append("photo", blob, blob === job.file ? name : jpegName(name));
      self.send(job, data);
    });
  };

  Uploader.prototype.send = function (job, data) {
    var self = this;
    var name = job.file.name;
    var request = job.request = new XMLHttpRequest();
    var progress = job.item.querySelector("progress");
    request.open("POST", this.root.getAttribute("data-upload-url"));
    request.setRequestHeader("X-CSRFToken", this.token);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { progress.value = Math.round(100 * event.loaded / event.total); }
    });
    this.status(job.item, say(this.root, "sending", name));
    request.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
      if (request.status === 201 && answer && answer.id) {
        self.staged(job.item, answer);
        self.track(-1);
        self.announce(say(self.root, "sent", name));
      } else {
        self.refused(job.item, answer && answer.error || say(self.root, "failed", name));
      }
      self.finish(job);
    });
    request.addEventListener("error", function () {
      self.refused(job.item, say(self.root, "failed", name));
      self.finish(job);
    });
    request.addEventListener("abort", function () { self.finish(job); });
    request.send(data);
  };

  Uploader.prototype.finish = function (job) {
    if (this.current === job) { this.current = null; }
    this.next();
  };

  Uploader.prototype.status = function (item, message) {
    item.querySelector(".photo-upload-status").textContent = message;
  };

  // The photo is on the server: show the server's preview and carry its id with the form.
  Uploader.prototype.staged = function (item, answer) {
    var name = answer.name || item.getAttribute("data-name");
    var hidden = element("input");
    hidden.type = "hidden";
    hidden.name = "staged_photo";
    hidden.value = answer.id;
    item.appendChild(hidden);
    item.setAttribute("data-staged-id", answer.id);
    item.classList.add("photo-upload--done");
    if (answer.thumbnail_url) {
      var image = element("img");
      image.alt = "";
      image.src = answer.thumbnail_url;
      item.querySelector(".photo-upload-thumb").appendChild(image);
    }
    var progress = item.querySelector("progress");
    progress.value = 100;
    progress.hidden = true;
    this.status(item, say(this.root, "done", name));
  };

  // Refused by itself, with the server's reason; the other photos stay. Removing clears it.
  Uploader.prototype.refused = function (item, message) {
    item.classList.add("photo-upload--refused");
    item.querySelector("progress").hidden = true;
    var status = item.querySelector(".photo-upload-status");
    status.textContent = message;
    status.classList.add("error");
    item.querySelectorAll('[data-action="moveUp"], [data-action="moveDown"]').forEach(function (button) {
      button.remove();  // a refused photo has no place in the order; it can only be removed
    });
    this.list.appendChild(item);
    this.refreshMoves();
    this.track(-1);
    this.announce(message);
  };

  // One tap never loses a photo: a removed photo leaves "Photo removed. Undo" in its place, and
  // stays on the server (staged for a day). Its place carries a `remove_staged` field, so saving
  // the form drops it there; undo puts it back, and a photo still to be sent is sent again.
  // A refused photo has nothing to lose: it goes at once.
  Uploader.prototype.remove = function (item) {
    var name = item.getAttribute("data-name");
    if (item.classList.contains("photo-upload--refused")) { return this.drop(item); }
    var job = this.current && this.current.item === item ? this.current : null;
    job = job || this.queue.filter(function (queued) { return queued.item === item; })[0];
    if (job) {  // not sent yet: stop it, and keep the file for an undo
      item.photoFile = job.file;
      job.cancelled = true;
      this.queue = this.queue.filter(function (queued) { return queued !== job; });
      if (job === this.current && job.request) { job.request.abort(); }
      this.track(-1);
    }
    var place = element("li", "photo-upload photo-upload--removed");
    place.appendChild(element("p", "", say(this.root, "removed-short", name)));
    var staged = item.getAttribute("data-staged-id");
    if (staged) {
      var hidden = element("input");
      hidden.type = "hidden";
      hidden.name = "remove_staged";
      hidden.value = staged;
      place.appendChild(hidden);
    }
    var undo = element("button", "button button--secondary button--small", say(this.root, "undo"));
    undo.type = "button";
    undo.setAttribute("data-action", "undo");
    undo.appendChild(element("span", "visually-hidden", " " + name));
    place.appendChild(undo);
    place.removedItem = item;
    this.list.replaceChild(place, item);
    this.refreshMoves();
    this.announce(say(this.root, "removed", name));
    undo.focus();
  };

  Uploader.prototype.undo = function (place) {
    var item = place.removedItem;
    this.list.replaceChild(item, place);
    if (item.photoFile) {  // it had not been sent: send it again, in its turn
      var file = item.photoFile;
      item.photoFile = null;
      item.querySelector("progress").value = 0;
      this.queue.push({file: file, item: item});
      this.track(1);
      this.next();
    }
    this.refreshMoves();
    this.announce(say(this.root, "back", item.getAttribute("data-name")));
    item.querySelector('[data-action="remove"]').focus();
  };

  Uploader.prototype.drop = function (item) {
    var name = item.getAttribute("data-name");
    var focusTo = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    this.list.hidden = !this.list.children.length;
    this.refreshMoves();
    this.announce(say(this.root, "removed", name));
    var target = focusTo && focusTo.querySelector('[data-action="remove"], [data-action="undo"]');
    (target || this.input).focus();
  };

  Uploader.prototype.moveUp = function (item) {
    var before = item.previousElementSibling;
    while (before && before.classList.contains("photo-upload--removed")) {
      before = before.previousElementSibling;
    }
    if (before) { this.list.insertBefore(item, before); }
    this.moved(item, "moveUp");
  };

  Uploader.prototype.moveDown = function (item) {
    var after = item.nextElementSibling;
    while (after && after.classList.contains("photo-upload--removed")) {
      after = after.nextElementSibling;
    }
    if (after && !after.classList.contains("photo-upload--refused")) {
      this.list.insertBefore(after, item);
    }
    this.moved(item, "moveDown");
  };

  Uploader.prototype.moved = function (item, action) {
    this.refreshMoves();
    var position = this.inOrder().indexOf(item) + 1;
    this.announce(say(this.root, "moved", item.getAttribute("data-name"))
      .split("{position}").join(String(position)));
    var button = item.querySelector('[data-action="' + action + '"]');
    if (button.disabled) { button = item.querySelector('[data-action="remove"]'); }
    button.focus();
  };

  // The first photo cannot go up, the last cannot go down (refused ones, at the end, and the
  // places of removed ones do not count).
  Uploader.prototype.inOrder = function () {
    return Array.prototype.filter.call(this.list.children, function (item) {
      return !item.classList.contains("photo-upload--refused") &&
        !item.classList.contains("photo-upload--removed");
    });
  };

  Uploader.prototype.refreshMoves = function () {
    var items = this.inOrder();
    items.forEach(function (item, index) {
      item.querySelector('[data-action="moveUp"]').disabled = index === 0;
      item.querySelector('[data-action="moveDown"]').disabled = index === items.length - 1;
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-photo-uploader]").forEach(function (root) {
      if (root.closest("form") && root.querySelector('input[type="file"]')) {
        root.classList.add("photo-uploader--on");
        new Uploader(root);
      }
    });
  });
})();
