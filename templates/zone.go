package templates

import (
	"reflect"
	"time"
)

var timeType = reflect.TypeOf(time.Time{})

// inZone returns a copy of d with every time in it (fields, nested structs,
// slices and pointers) moved to loc, so that one mail shows all its times
// in its recipient's zone. Zero times stay zero. d itself is not changed.
// Template data holds no maps or interfaces (a time there would stay put).
func inZone(d Data, loc *time.Location) Data {
	v := reflect.New(reflect.TypeOf(d)).Elem()
	v.Set(reflect.ValueOf(d))
	moveTimes(v, loc)
	return v.Interface().(Data)
}

func moveTimes(v reflect.Value, loc *time.Location) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			if t := v.Interface().(time.Time); !t.IsZero() {
				v.Set(reflect.ValueOf(t.In(loc)))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				moveTimes(f, loc)
			}
		}
	case reflect.Slice:
		if v.IsNil() || !holdsTime(v.Type().Elem(), 0) {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len()) // the caller's array stays as it was
		reflect.Copy(c, v)
		for i := 0; i < c.Len(); i++ {
			moveTimes(c.Index(i), loc)
		}
		v.Set(c)
	case reflect.Array: // a value: its elements are settable in place
		for i := 0; i < v.Len(); i++ {
			moveTimes(v.Index(i), loc)
		}
	case reflect.Pointer:
		if v.IsNil() || !holdsTime(v.Type().Elem(), 0) {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		moveTimes(c.Elem(), loc)
		v.Set(c)
	}
}

// holdsTime reports whether values of t can contain a time.Time.
func holdsTime(t reflect.Type, depth int) bool {
	if depth > 8 {
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && holdsTime(f.Type, depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Pointer, reflect.Array:
		return holdsTime(t.Elem(), depth+1)
	}
	return false
}
