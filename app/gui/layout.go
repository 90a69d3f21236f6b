package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
)

func widgetVBox(objs ...fyne.CanvasObject) fyne.CanvasObject { return container.NewVBox(objs...) }

// newBorder is container.NewBorder with its objects in reading order: top,
// left, centre, right, bottom. Tab follows the order of a container's
// objects, and NewBorder puts the centre first, so a toolbar above a table
// would be reached only after the table.
func newBorder(top, bottom, left, right fyne.CanvasObject, center ...fyne.CanvasObject) *fyne.Container {
	objs := make([]fyne.CanvasObject, 0, len(center)+4)
	for _, o := range append(append([]fyne.CanvasObject{top, left}, center...), right, bottom) {
		if o != nil {
			objs = append(objs, o)
		}
	}
	return container.New(layout.NewBorderLayout(top, bottom, left, right), objs...)
}
